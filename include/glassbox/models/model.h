// A classifier ready to be given images: the network (built-in or TorchScript) and its input
// specification. Every loader returns one, so that the way from a file to an explanation carries the
// model's inputs and class names with it:
//
//   glassbox::models::Model m = glassbox::models::load_model("resnet.pt");  // with resnet.json beside it
//   at::Tensor x = m.prepare_files({"cat.jpg"});                           // its input, on its device
//   at::Tensor cam = glassbox::explain::grad_cam(m.network(), x, m.top_class(x));
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <memory>
#include <string>
#include <vector>

#include "glassbox/models/checkpoint.h"
#include "glassbox/models/classifier.h"
#include "glassbox/models/input-spec.h"
#include "glassbox/models/torchscript.h"

namespace glassbox::models {

class Model {
 public:
  // Throws glassbox::Error naming the model when `spec` does not fit the network (input_spec.h).
  Model(std::unique_ptr<Classifier> network, InputSpec spec);

  Classifier& network() const { return *network_; }
  const InputSpec& spec() const { return spec_; }
  InputShape input_shape() const { return network_->input_shape(); }
  int64_t num_classes() const { return network_->num_classes(); }
  std::string name() const { return network_->name(); }
  std::string class_name(int64_t c) const { return spec_.class_name(c); }

  c10::Device device() const { return device_of(*network_); }
  void to(c10::Device device) { network_->to(device); }

  // Image files or decoded images as one input batch, prepared by the specification, on the model's device.
  at::Tensor prepare_files(const std::vector<std::string>& paths) const;
  at::Tensor prepare(const std::vector<data::DecodedImage>& images, const std::vector<std::string>& names) const;
  // Inputs back to [0, 1] pixels for display.
  at::Tensor to_display(const at::Tensor& x) const { return spec_.to_display(x); }

  // The logits for x, without gradients, in eval mode (restored after).
  at::Tensor predict(const at::Tensor& x) const;
  // Each sample's most likely class: [B] int64, on x's device.
  at::Tensor top_class(const at::Tensor& x) const;

 private:
  std::unique_ptr<Classifier> network_;
  InputSpec spec_;
};

// A glassbox checkpoint: the network with its weights, and the specification it recorded in training.
Model load_checkpoint_model(const std::string& path, const CheckpointLoadOptions& options = {});

// A TorchScript file described by the model.json beside it (model-json.h); errors name the sidecar
// when it is missing.
Model load_torchscript_model(const std::string& path, const TorchScriptOptions& options = {});
// A TorchScript file taking `shape`, with the specification given in code.
Model load_torchscript_model(const std::string& path, const InputShape& shape, InputSpec spec,
                             const TorchScriptOptions& options = {});

// Either: a file that is not a zip archive, or one named *.ckpt, is read as a checkpoint; any other as
// TorchScript with its model.json.
Model load_model(const std::string& path);

// A freshly initialised built-in architecture (architectures.h) with `spec`.
Model builtin_model(const ModelOptions& options, InputSpec spec = {});

}  // namespace glassbox::models
