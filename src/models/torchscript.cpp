#include "glassbox/models/torchscript.h"

#include <torch/script.h>

#include "glassbox/util/error.h"

namespace glassbox::models {

TorchScriptClassifier::TorchScriptClassifier(const std::string& path, InputShape shape)
    : path_(path), shape_(shape) {
  try {
    module_ = std::make_unique<torch::jit::Module>(torch::jit::load(path));
  } catch (const c10::Error& e) {
    const std::string what = e.what_without_backtrace();
    throw Error(path + ": not a loadable TorchScript module (" + what.substr(0, what.find('\n')) + ")");
  }
  module_->eval();
  torch::NoGradGuard no_grad;
  at::Tensor probe;
  try {
    probe = forward(torch::zeros({2, shape.channels, shape.height, shape.width}));
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    const std::string what = e.what();
    throw Error(path + ": failed on a [2, " + std::to_string(shape.channels) + ", " + std::to_string(shape.height) +
                ", " + std::to_string(shape.width) + "] input (" + what.substr(0, what.find('\n')) + ")");
  }
  classes_ = probe.size(1);
  GLASSBOX_CHECK(classes_ >= 2, path, ": output has ", classes_, " classes, expected at least 2");
}

TorchScriptClassifier::~TorchScriptClassifier() = default;

at::Tensor TorchScriptClassifier::forward(const at::Tensor& x) {
  const c10::IValue out = module_->forward({x});
  GLASSBOX_CHECK(out.isTensor(), path_, ": forward returned ", out.tagKind(), ", expected a [B, classes] tensor");
  at::Tensor logits = out.toTensor();
  GLASSBOX_CHECK(logits.dim() == 2 && logits.size(0) == x.size(0) && at::isFloatingType(logits.scalar_type()), path_,
                 ": output ", logits.sizes(), " (", logits.scalar_type(), ") for a batch of ", x.size(0),
                 ", expected [", x.size(0), ", classes] floating logits");
  GLASSBOX_CHECK(classes_ == 0 || logits.size(1) == classes_, path_, ": output has ", logits.size(1),
                 " classes, earlier ", classes_);
  return logits;
}

std::vector<at::Tensor> TorchScriptClassifier::parameters() {
  std::vector<at::Tensor> params;
  for (const at::Tensor& p : module_->parameters()) params.push_back(p);
  return params;
}

void TorchScriptClassifier::train(bool on) { module_->train(on); }
bool TorchScriptClassifier::is_training() const { return module_->is_training(); }
void TorchScriptClassifier::to(c10::Device device) { module_->to(device); }

}  // namespace glassbox::models
