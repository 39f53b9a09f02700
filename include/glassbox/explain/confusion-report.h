// A mined dataset written out for people to look at: each of the most confused samples' 2x3 figure
// (with a CAM column for both classes when a layer method is given), the confused-pairs matrix as a
// picture, and index.json listing the ranked samples with their figures.
#pragma once

#include <string>

#include "glassbox/data/dataset.h"
#include "glassbox/explain/confusion.h"
#include "glassbox/explain/methods.h"
#include "glassbox/models/model.h"
#include "glassbox/util/arg.h"

namespace glassbox::explain {

struct ConfusionReportOptions {
  using MethodPointer = const AttributionMethod*;
  GLASSBOX_ARG(double, projection_factor) = 3;  // k in x + k * gradient
  // A layer method drawn over each figure's input for both classes (gradcam, ...), or none.
  GLASSBOX_ARG(MethodPointer, cam) = nullptr;
  GLASSBOX_ARG(std::string, layer);  // the CAM's layer; empty: the default CAM layer
  // Recorded in index.json: what was mined, and how long it took on how many ranks.
  GLASSBOX_ARG(std::string, data_name);
  GLASSBOX_ARG(std::string, split_name);
  GLASSBOX_ARG(RankBy, rank_by) = RankBy::gap;
  GLASSBOX_ARG(double, mining_seconds) = 0;
  GLASSBOX_ARG(int, world_size) = 1;
};

// Writes rankNNN-indexI.png for each ranked sample whose gradients did not vanish, pairs.png and
// index.json into `directory` (which must exist), each file atomically. `data` is the split `result`
// was mined from, as [0, 1] pixels.
void write_confusion_report(const models::Model& model, const data::Dataset& data, const MiningResult& result,
                            const ConfusionReportOptions& options, const std::string& directory);

}  // namespace glassbox::explain
