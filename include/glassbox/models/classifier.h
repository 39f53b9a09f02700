// The one interface every model glassbox trains or explains implements: a batch in, logits out.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <string>
#include <vector>

#include "glassbox/models/model-options.h"

namespace glassbox::models {

class Classifier {
 public:
  virtual ~Classifier() = default;

  // x: B x C x H x W float; returns B x num_classes() logits.
  virtual at::Tensor forward(const at::Tensor& x) = 0;
  virtual std::vector<at::Tensor> parameters() = 0;
  virtual void train(bool on = true) = 0;
  virtual bool is_training() const = 0;
  virtual void to(c10::Device device) = 0;
  virtual InputShape input_shape() const = 0;
  virtual int64_t num_classes() const = 0;
  // A short name for messages and metadata: "cnn", "torchscript:model.pt", ...
  virtual std::string name() const = 0;
};

// Where a model's parameters live (CPU for a model without parameters).
inline c10::Device device_of(Classifier& model) {
  const std::vector<at::Tensor> params = model.parameters();
  return params.empty() ? c10::Device(c10::kCPU) : params.front().device();
}

// Puts a model in eval mode for the guard's lifetime and restores its previous mode, so a callback
// can run the model mid-training without disturbing it.
class EvalModeGuard {
 public:
  explicit EvalModeGuard(Classifier& model) : model_(model), was_training_(model.is_training()) { model_.train(false); }
  ~EvalModeGuard() { model_.train(was_training_); }
  EvalModeGuard(const EvalModeGuard&) = delete;
  EvalModeGuard& operator=(const EvalModeGuard&) = delete;

 private:
  Classifier& model_;
  bool was_training_;
};

}  // namespace glassbox::models
