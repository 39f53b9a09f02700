// What the explain, morph and confused commands share: where the model comes from (a checkpoint or a
// TorchScript module), where the sample comes from (a dataset index or a PNG file), and the output.
#pragma once

#include <ATen/core/Tensor.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "glassbox/data/dataset.h"
#include "glassbox/models/classifier.h"

namespace CLI {
class App;
}

namespace glassbox::cli {

struct ModelArgs {
  std::string checkpoint;
  std::string torchscript;
  std::string normalize;  // "MEAN,STD" or "M1,M2,M3,S1,S2,S3" for TorchScript models
  std::string data = "mnist";
  std::string split = "test";
  int threads = 0;
  std::string device = "cpu";
};

struct LoadedModel {
  std::unique_ptr<models::Classifier> model;
  data::Normalization normalization;
  std::vector<std::string> class_names;
  // The --data/--split images when loading the model already read them (a TorchScript model takes its
  // input shape from them): load_split reuses them instead of reading the files again.
  std::optional<data::Dataset> split;
};

void add_model_options(CLI::App& cmd, ModelArgs& args);

// Loads the model named by --checkpoint or --torchscript (exactly one). A TorchScript model's input
// shape comes from the dataset.
LoadedModel load_model(const ModelArgs& args);

// The dataset split named by --data/--split, with the model's normalisation.
data::Dataset load_split(const ModelArgs& args, const LoadedModel& model);

// One sample [1, C, H, W] in the model's input space: dataset index, or a PNG file; `label` is -1 for
// a file. Checks the size and channels against the model.
at::Tensor load_sample(const ModelArgs& args, const LoadedModel& model, int64_t index, const std::string& image_path,
                       int64_t& label);

}  // namespace glassbox::cli
