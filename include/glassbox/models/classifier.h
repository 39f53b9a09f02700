// The one interface every model glassbox trains or explains implements: a batch in, logits out.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "glassbox/models/model-options.h"

namespace glassbox::models {

struct BackwardRules;

// A layer whose activation a model can return, and the shape of that activation for one input.
struct LayerInfo {
  std::string name;            // "conv2", "layer4", "layer3.1.conv2"
  std::vector<int64_t> shape;  // without the batch dimension; empty when the output is not a tensor
  int calls = 1;               // how many times forward calls it (only layers called once can be asked for)
};

// The logits and one layer's activation from a single forward pass. The activation is connected to the
// autograd graph: gradients of class scores can be taken with respect to it (torch::autograd::grad), and
// the backward stops there, never touching the parameters' .grad.
struct LayerForward {
  at::Tensor logits;
  at::Tensor activation;
};

struct AttentionForward {
  at::Tensor logits;
  std::vector<std::string> layers;    // the attention modules, in the order forward calls them
  // Their attention probabilities, as the module computed them (so that gradients with respect to them
  // exist): [B, heads, queries, keys], or [B * heads, queries, keys] (batch major) from traced code.
  std::vector<at::Tensor> attention;
};

class Classifier {
 public:
  virtual ~Classifier() = default;

  // x: B x C x H x W float; returns B x num_classes() logits.
  virtual at::Tensor forward(const at::Tensor& x) = 0;
  virtual std::vector<at::Tensor> parameters() = 0;
  // The parameters with their module paths ("layer4.1.conv2.weight"), in the order the model registers
  // them: what the model-randomisation test walks, layer by layer. Default: parameters() named "0", "1", ...
  virtual std::vector<std::pair<std::string, at::Tensor>> named_parameters();
  virtual void train(bool on = true) = 0;
  virtual bool is_training() const = 0;
  virtual void to(c10::Device device) = 0;
  virtual InputShape input_shape() const = 0;
  virtual int64_t num_classes() const = 0;
  // A short name for messages and metadata: "cnn", "torchscript:model.pt", ...
  virtual std::string name() const = 0;
  // Where the logits come from when forward returns more than them ("element 0 ('logits') of the named
  // tuple forward returns"); empty when forward returns the logits themselves.
  virtual std::string logits_source() const { return {}; }

  // The layers forward_with_layer can return, in the order forward runs them, with their output shapes
  // for the model's input shape. Default: none.
  virtual std::vector<LayerInfo> layers() { return {}; }
  // Runs the model on x and also returns the named layer's activation. Throws glassbox::Error naming
  // `layer`, listing the candidates, when the model has no such layer (or cannot return it).
  virtual LayerForward forward_with_layer(const at::Tensor& x, const std::string& layer);
  // Runs the model on x with the named layer's output replaced by `value` (shaped like that layer's
  // activation for x) and returns the logits: what the rest of the network makes of that activation.
  // Gradients flow back to `value`. Captum's layer methods move a layer's activation this way. Errors
  // as forward_with_layer's.
  virtual at::Tensor forward_replacing_layer(const at::Tensor& x, const std::string& layer, const at::Tensor& value);
  // Runs the model on x and also returns the attention probabilities of each of its attention modules
  // (nn.MultiheadAttention), even where the module was asked not to return them; with grad mode on they
  // are in the autograd graph, so that gradients with respect to them exist. Throws glassbox::Error
  // about "method" when the model has none.
  virtual AttentionForward forward_with_attention(const at::Tensor& x);
  // Runs the model on x with the backward of its operations changed by `rules` (backward-rules.h): the
  // same logits, a different backward (Guided Backprop, DeepLift, LRP), on a copy: the model itself is
  // untouched. Throws glassbox::Error naming the rules' method and the first operation they do not
  // cover. Default: an error naming the model.
  virtual at::Tensor forward_with_rules(const at::Tensor& x, const BackwardRules& rules);
};

// The names of `layers`, for messages: "conv1, conv2, fc1, fc2".
std::string layer_names(const std::vector<LayerInfo>& layers);

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
