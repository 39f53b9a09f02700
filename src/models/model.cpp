#include "glassbox/models/model.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <filesystem>

#include "glassbox/models/architectures.h"
#include "glassbox/models/checkpoint-format.h"
#include "glassbox/models/model-json.h"
#include "glassbox/util/error.h"
#include "glassbox/util/file-bytes.h"

namespace glassbox::models {

Model::Model(std::unique_ptr<Classifier> network, InputSpec spec) : network_(std::move(network)), spec_(std::move(spec)) {
  GLASSBOX_CHECK(network_ != nullptr, "model: no network");
  spec_.validate(network_->input_shape(), network_->num_classes(), network_->name());
}

at::Tensor Model::prepare_files(const std::vector<std::string>& paths) const {
  return spec_.prepare_files(paths, input_shape()).to(device());
}

at::Tensor Model::prepare(const std::vector<data::DecodedImage>& images, const std::vector<std::string>& names) const {
  return spec_.prepare(images, input_shape(), names).to(device());
}

at::Tensor Model::predict(const at::Tensor& x) const {
  torch::autograd::AutoGradMode no_grad(false);
  EvalModeGuard eval(*network_);
  return network_->forward(x);
}

at::Tensor Model::top_class(const at::Tensor& x) const { return predict(x).argmax(1); }

Model load_checkpoint_model(const std::string& path, const CheckpointLoadOptions& options) {
  Checkpoint c = load_checkpoint(path, options);
  InputSpec spec = InputSpec().preprocess(c.meta.input_preprocess()).class_names(c.meta.class_names);
  return Model(std::move(c.model), std::move(spec));
}

Model load_torchscript_model(const std::string& path, const TorchScriptOptions& options) {
  const std::string sidecar = model_json_path(path);
  std::error_code ec;
  GLASSBOX_CHECK(std::filesystem::exists(sidecar, ec), path, ": no ", sidecar,
                 " beside it (the model's input_shape, preprocess, normalization and class_names), and none given");
  ModelJson j = read_model_json(sidecar);
  return load_torchscript_model(path, j.input_shape, std::move(j.spec), options);
}

Model load_torchscript_model(const std::string& path, const InputShape& shape, InputSpec spec,
                             const TorchScriptOptions& options) {
  spec.validate(shape, 0, path);
  return Model(std::make_unique<TorchScriptClassifier>(path, shape, options), std::move(spec));
}

Model load_model(const std::string& path) {
  const bool ckpt = std::filesystem::path(path).extension() == ".ckpt";
  if (ckpt || !is_zip_checkpoint(read_file_prefix(path, 4))) return load_checkpoint_model(path);
  return load_torchscript_model(path);
}

Model builtin_model(const ModelOptions& options, InputSpec spec) { return Model(make_model(options), std::move(spec)); }

}  // namespace glassbox::models
