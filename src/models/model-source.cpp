#include "glassbox/models/model-source.h"

#include <filesystem>

#include "glassbox/models/model-json.h"
#include "glassbox/util/error.h"

namespace glassbox::models {

ModelOpener::ModelOpener(ModelSource source) : source_(std::move(source)) {
  const bool checkpoint = !source_.checkpoint().empty();
  GLASSBOX_CHECK_PARAM(checkpoint != !source_.torchscript().empty(), "checkpoint",
                       checkpoint ? source_.checkpoint() : "(none)", "expected exactly one of a checkpoint and a torchscript file");
  if (checkpoint) {
    GLASSBOX_CHECK_PARAM(!source_.spec(), "spec", source_.checkpoint(), "a checkpoint records how its images were prepared");
    checkpoint_model_ = std::make_unique<Model>(load_checkpoint_model(source_.checkpoint()));
    spec_ = checkpoint_model_->spec();
    shape_ = checkpoint_model_->input_shape();
    return;
  }
  const std::string sidecar = model_json_path(source_.torchscript());
  std::error_code ec;
  if (std::filesystem::exists(sidecar, ec)) {
    GLASSBOX_CHECK_PARAM(!source_.spec(), "spec", sidecar, "describes this model's inputs and classes; edit it instead");
    ModelJson j = read_model_json(sidecar);
    const std::string& stated = source_.torchscript_options().logits();
    GLASSBOX_CHECK_PARAM(stated.empty() || j.logits.empty() || stated == j.logits, "logits", stated, sidecar,
                         " says \"", printable_excerpt(j.logits, 64), "\"; edit it instead");
    if (stated.empty()) source_.torchscript_options().logits(j.logits);
    spec_ = std::move(j.spec);
    shape_ = j.input_shape;
  } else if (source_.spec()) {
    spec_ = *source_.spec();
  }
}

ModelOpener::~ModelOpener() = default;

Model ModelOpener::open(std::optional<InputShape> shape, const std::vector<std::string>& class_names) {
  if (checkpoint_model_) {
    Model model = std::move(*checkpoint_model_);
    checkpoint_model_.reset();
    return model;
  }
  if (shape_) shape = shape_;
  GLASSBOX_CHECK_PARAM(shape.has_value(), "input_shape", source_.torchscript(),
                       "not recorded (no model.json) and not given: expected the shape of the images it reads");
  const std::string& path = source_.torchscript();
  spec_.validate(*shape, 0, path);
  auto network = std::make_unique<TorchScriptClassifier>(path, *shape, source_.torchscript_options());
  InputSpec spec = spec_;
  if (spec.class_names().empty() && int64_t(class_names.size()) == network->num_classes()) spec.class_names(class_names);
  return Model(std::move(network), std::move(spec));
}

}  // namespace glassbox::models
