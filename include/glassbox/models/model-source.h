// A model named the way a user names one: a glassbox checkpoint, or a TorchScript file described by the
// model.json beside it or by a specification given here. A TorchScript file whose input shape nothing
// records takes the shape of the images it will be given, so opening takes two steps: first what is
// known (how images become its inputs, for reading the data), then the model.
//
//   glassbox::models::ModelOpener opener(glassbox::models::ModelSource().torchscript("net.pt"));
//   auto split = glassbox::data::load_dataset("photos", glassbox::data::Split::test,
//       glassbox::data::DatasetOptions().preprocess(opener.spec().preprocess()));
//   glassbox::models::Model model = opener.open(split.dataset.shape(), split.dataset.class_names());
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "glassbox/models/input-spec.h"
#include "glassbox/models/model.h"
#include "glassbox/models/torchscript.h"
#include "glassbox/util/arg.h"

namespace glassbox::models {

struct ModelSource {
  GLASSBOX_ARG(std::string, checkpoint);   // a glassbox checkpoint, or
  GLASSBOX_ARG(std::string, torchscript);  // a TorchScript file
  // A TorchScript file without model.json: its preprocessing, normalisation and class names. Refused
  // for a checkpoint and beside a model.json, which are the model's one description.
  GLASSBOX_ARG(std::optional<InputSpec>, spec);
  GLASSBOX_ARG(TorchScriptOptions, torchscript_options);
};

class ModelOpener {
 public:
  // Checks the source (Error::about "checkpoint", "torchscript" or "spec") and reads what describes
  // the model: the whole checkpoint, or the model.json.
  explicit ModelOpener(ModelSource source);
  ~ModelOpener();

  // How images become the model's inputs: its preprocessing is what the caller's data is read with.
  const InputSpec& spec() const { return spec_; }
  // The input shape, when the checkpoint or the model.json records it.
  const std::optional<InputShape>& input_shape() const { return shape_; }

  // The model, once. A TorchScript file without a recorded shape takes `shape` (the caller's data's, or
  // its first image's as prepared; an error about "input_shape" without one). A model without class
  // names takes `class_names` when there is one per class.
  Model open(std::optional<InputShape> shape = std::nullopt, const std::vector<std::string>& class_names = {});

 private:
  ModelSource source_;
  std::unique_ptr<Model> checkpoint_model_;
  InputSpec spec_;
  std::optional<InputShape> shape_;
};

}  // namespace glassbox::models
