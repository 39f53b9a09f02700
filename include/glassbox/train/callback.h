// Hooks into the training loop. Everything a callback may want is handed to it, so no callback needs
// the model to stash state (the seed's model kept `last_batch` and `last_logits` for its callback).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "glassbox/models/classifier.h"
#include "glassbox/models/input-spec.h"
#include "glassbox/train/logger.h"

namespace glassbox::train {

struct BatchContext {
  models::Classifier& model;
  const models::InputSpec& spec;  // how inputs are made (to show them as pixels) and the class names
  const at::Tensor& x;       // the batch's input, as the model saw it
  const at::Tensor& y;       // its labels
  const at::Tensor& logits;  // the model's output for it, detached
  // The step's mean loss (over every rank's batch), a detached 0-dim tensor on the training device:
  // reading it (loss.item<double>()) waits for the device, so read it only when it is needed.
  const at::Tensor& loss;
  int64_t batch_index;       // within the epoch
  int64_t global_step;       // optimizer steps taken so far, this batch's included
  int64_t epoch;
  // Where the run's records go; records() is false where they are dropped (ranks other than 0). A
  // callback that logs from another thread keeps a copy of the pointer.
  const std::shared_ptr<Logger>& logger;
};

struct EpochContext {
  models::Classifier& model;
  const models::InputSpec& spec;  // as in BatchContext
  int64_t epoch;
  int64_t global_step;
  const std::shared_ptr<Logger>& logger;  // as in BatchContext
};

// Override what you need. In a distributed run, callbacks run on every rank with the global step and
// the rank's own batches; only rank 0's logger records (as Lightning's rank_zero_only loggers).
// A callback may run the model: wrap it in models::EvalModeGuard, and take
// input gradients with torch::autograd::grad (never .backward()), which leaves parameters' .grad alone.
class Callback {
 public:
  virtual ~Callback() = default;
  virtual void on_fit_start(const EpochContext&) {}
  virtual void on_fit_end(const EpochContext&) {}
  virtual void on_train_epoch_start(const EpochContext&) {}
  virtual void on_train_epoch_end(const EpochContext&) {}
  virtual void on_train_batch_end(const BatchContext&) {}
  virtual void on_validation_end(const EpochContext&, const std::map<std::string, double>& /*metrics*/) {}
};

}  // namespace glassbox::train
