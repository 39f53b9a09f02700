// A TorchScript module's layer activations without hooks (TorchScript has none in C++): the forward graph
// is copied, the calls leading to the layer are inlined so that the layer's own call becomes visible, and
// its output is added to the graph's outputs. The result is registered as a new method on the module's
// type, so it runs as compiled TorchScript like forward does. ../shared/docs: torchscript-layers.md.
#pragma once

#include <torch/script.h>

#include <map>
#include <string>
#include <vector>

#include "glassbox/models/classifier.h"
#include "torchscript-output.h"

namespace glassbox::models {

class TorchScriptLayers {
 public:
  // `module` must outlive this; `path` names the file in errors.
  // `logits` picks the logits out of what forward returns.
  TorchScriptLayers(torch::jit::Module& module, std::string path, const LogitsSelection& logits);

  // Every submodule forward calls, in call order, with its output shape for `probe` (one input) and how
  // many times it is called. Built once.
  const std::vector<LayerInfo>& layers(const at::Tensor& probe);

  // (logits, the layer's activation) from one run of a method that returns both. Throws glassbox::Error
  // naming the layer: unknown (with the candidates), called more than once, not called by forward
  // (inlined away, or unused), or defined inside a control-flow block.
  LayerForward forward(const at::Tensor& x, const std::string& layer);

  // The logits of one run of a method that takes (x, value) and feeds `value` to the rest of forward in
  // place of the layer's output. Errors as forward's.
  at::Tensor forward_replacing(const at::Tensor& x, const std::string& layer, const at::Tensor& value);

  // The logits and each attention module's weights per head (Classifier::forward_with_attention).
  AttentionForward forward_with_attention(const at::Tensor& x);

 private:
  // A copy of forward's graph in which the calls down to `layer` are inlined, and the layer's output in it.
  std::shared_ptr<torch::jit::Graph> graph_to_layer(const std::string& layer, torch::jit::Value*& activation);

  torch::jit::Module& module_;
  std::string path_;
  const LogitsSelection& logits_;
  std::vector<LayerInfo> layers_;
  std::string attention_method_;
  std::vector<std::string> attention_layers_;
  std::map<std::string, std::string> methods_;            // layer -> the method that returns it
  std::map<std::string, std::string> replacing_methods_;  // layer -> the method that replaces it
};

}  // namespace glassbox::models
