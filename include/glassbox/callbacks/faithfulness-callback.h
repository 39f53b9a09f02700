// Watching whether the explanations become more faithful as the model learns: every epoch, chosen
// metrics (evaluate/metrics.h) of one attribution method on a fixed probe set, logged as scalars
// ("faithfulness/ig/deletion": the mean over the probes) and the curves as a figure, to the Trainer's
// logger (TensorBoard with --logger tensorboard).
#pragma once

#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

#include "glassbox/callbacks/drawing-queue.h"
#include "glassbox/evaluate/metric-options.h"
#include "glassbox/explain/attribution.h"
#include "glassbox/train/callback.h"
#include "glassbox/util/arg.h"

namespace glassbox::callbacks {

struct FaithfulnessCallbackOptions {
  GLASSBOX_ARG(std::string, method) = "saliency";  // any input method or CAM of explain::attribution_methods()
  GLASSBOX_ARG(explain::AttributeOptions, attribute_options);
  GLASSBOX_ARG(std::vector<std::string>, metrics) = std::vector<std::string>{"deletion", "insertion"};
  GLASSBOX_ARG(evaluate::EvaluateOptions, evaluate_options);
  GLASSBOX_ARG(std::string, tag) = "faithfulness";
  GLASSBOX_ARG(int64_t, every_n_epochs) = 1;
  GLASSBOX_ARG(bool, log_before_training) = true;  // the untrained model's numbers at step 0
};

class FaithfulnessCallback : public train::Callback {
 public:
  // Checks the method, metrics and options (glassbox::Error naming the one at fault) before training starts.
  FaithfulnessCallback(FaithfulnessCallbackOptions options, at::Tensor probes_x, at::Tensor probes_y);
  void on_fit_start(const train::EpochContext& ctx) override;
  void on_train_epoch_end(const train::EpochContext& ctx) override;
  void on_fit_end(const train::EpochContext& ctx) override;
  int64_t evaluations_logged() const { return logged_; }

 private:
  void log(const train::EpochContext& ctx, const std::string& when);
  FaithfulnessCallbackOptions options_;
  at::Tensor x_, y_;
  DrawingQueue queue_;
  int64_t logged_ = 0;
};

}  // namespace glassbox::callbacks
