// glassbox layers: the layers a model's activations can be taken from, with their output shapes, and the
// one CAM methods take by default.
#include <CLI/CLI.hpp>

#include <cstdio>

#include "commands.h"
#include "flags.h"
#include "glassbox/explain/layer-listing.h"
#include "glassbox/models/torchscript.h"
#include "glassbox/util/error.h"
#include "glassbox/util/threads.h"
#include "model-source.h"

namespace glassbox::cli {
namespace {

struct LayersArgs {
  ModelArgs model;
  InputArgs inputs;
  std::string input_shape;  // "C,H,W" for a TorchScript model
  bool json = false;
};

void run_layers(const LayersArgs& a) {
  check_model_args(a.model);
  std::unique_ptr<models::Classifier> owned;
  Session session;
  models::Classifier* model = nullptr;
  if (!a.input_shape.empty()) {
    GLASSBOX_CHECK(!a.model.torchscript.empty(), "--input-shape is for TorchScript models: a checkpoint records its own");
    const std::vector<double> v = parse_reals("--input-shape", a.input_shape);
    GLASSBOX_CHECK(v.size() == 3, "--input-shape ", a.input_shape, ": expected C,H,W");
    models::InputShape shape{static_cast<int64_t>(v[0]), static_cast<int64_t>(v[1]), static_cast<int64_t>(v[2])};
    for (size_t i = 0; i < 3; ++i)
      GLASSBOX_CHECK(v[i] == static_cast<double>(static_cast<int64_t>(v[i])), "--input-shape ", a.input_shape,
                     ": expected whole numbers");
    for_flag("--input-shape", a.input_shape, [&] { models::validate_input_shape(shape, "input shape"); });
    configure_threads(a.model.threads);
    owned = std::make_unique<models::TorchScriptClassifier>(a.model.torchscript, shape, torchscript_options(a.model));
    model = owned.get();
  } else {
    // A checkpoint knows its input shape; a TorchScript model takes it from the images or the data.
    const bool torchscript = !a.model.torchscript.empty();
    session = open_session(a.model, a.inputs.images.empty() ? nullptr : &a.inputs, torchscript && a.inputs.images.empty());
    model = &session.model->network();
  }
  std::fputs((a.json ? explain::layers_json(*model) : explain::layers_text(*model)).c_str(), stdout);
}

}  // namespace

Run add_layers_command(CLI::App& app) {
  auto a = std::make_shared<LayersArgs>();
  CLI::App* cmd = app.add_subcommand("layers", "List the layers of a model whose activations can be explained");
  add_model_options(*cmd, a->model);
  cmd->add_option("--image", a->inputs.images, "TorchScript: take the input shape from these images (as prepared)");
  cmd->add_option("--input-shape", a->input_shape, "TorchScript: the input shape C,H,W (e.g. 3,224,224)");
  cmd->add_flag("--json", a->json, "print the listing as JSON");
  return [a] { run_layers(*a); };
}

}  // namespace glassbox::cli
