// Watching a fixed probe set while the model trains:
// AttributionCallback: every epoch, one attribution method over the probes, drawn as a grid, so a user
//   watches the explanations sharpen as the model learns. (tf-explain's callbacks do this too; its IG
//   is not multiplied by the input and its maps can come out blank: ours is, and a flat map still
//   draws with its range on the colorbar.)
// MorphCallback: at epoch end, each probe morphed toward its most confused other class, logged as an
//   animated GIF with the final probabilities.
#pragma once

#include <ATen/core/Tensor.h>

#include <memory>
#include <string>
#include <vector>

#include "glassbox/callbacks/drawing-queue.h"
#include "glassbox/data/dataset.h"
#include "glassbox/explain/attribution.h"
#include "glassbox/explain/morph.h"
#include "glassbox/train/callback.h"
#include "glassbox/util/arg.h"

namespace glassbox::callbacks {

// The first n samples of a dataset, as probes: x as [0, 1] pixels (each callback makes them inputs
// with the trainer's InputSpec), and labels.
void first_probes(const data::Dataset& dataset, int64_t n, at::Tensor& x, at::Tensor& y);

struct AttributionCallbackOptions {
  GLASSBOX_ARG(std::string, method) = "ig";  // any of explain::attribution_methods(): ig, gradcam, ...
  GLASSBOX_ARG(explain::AttributeOptions, attribute_options);  // the method's options (layer for CAMs, ...)
  GLASSBOX_ARG(std::string, tag) = "attributions";
  GLASSBOX_ARG(int64_t, every_n_epochs) = 1;
  GLASSBOX_ARG(bool, log_before_training) = true;  // a grid at step 0, from the untrained model
};

class AttributionCallback : public train::Callback {
 public:
  // Figures go to the Trainer's logger (BatchContext::logger).
  AttributionCallback(AttributionCallbackOptions options, at::Tensor probes_x, at::Tensor probes_y);
  void on_fit_start(const train::EpochContext& ctx) override;
  void on_train_epoch_end(const train::EpochContext& ctx) override;
  void on_fit_end(const train::EpochContext& ctx) override;
  int64_t grids_logged() const { return grids_; }

 private:
  void log(const train::EpochContext& ctx, const std::string& when);
  AttributionCallbackOptions options_;
  at::Tensor x_, y_;
  DrawingQueue queue_;
  int64_t grids_ = 0;
};

struct MorphCallbackOptions {
  GLASSBOX_ARG(int64_t, steps) = 40;
  GLASSBOX_ARG(double, step_size) = 0.03;
  GLASSBOX_ARG(explain::MorphNorm, norm) = explain::MorphNorm::l2;
  GLASSBOX_ARG(double, stop_probability) = 0.95;
  GLASSBOX_ARG(std::string, tag) = "morph";
  GLASSBOX_ARG(int64_t, every_n_epochs) = 1;
};

class MorphCallback : public train::Callback {
 public:
  MorphCallback(MorphCallbackOptions options, at::Tensor probes_x, at::Tensor probes_y);  // figures to the logger
  void on_train_epoch_end(const train::EpochContext& ctx) override;
  void on_fit_end(const train::EpochContext& ctx) override;
  int64_t animations_logged() const { return animations_; }

 private:
  MorphCallbackOptions options_;
  at::Tensor x_, y_;
  DrawingQueue queue_;
  int64_t animations_ = 0;
};

}  // namespace glassbox::callbacks
