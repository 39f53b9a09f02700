// The layers a model's activations can be taken from, with their output shapes and the one CAM
// methods take by default: for people (a line per layer) or as JSON for programs.
#pragma once

#include <string>

#include "glassbox/models/classifier.h"

namespace glassbox::explain {

// "NAME, input CxHxW: N layers", then a line per layer (with how CAMs read it when it is tokens or
// channels last: layer-map.h); names from the model escaped for a terminal.
std::string layers_text(models::Classifier& model);
// {"model", "input_shape": [C, H, W], "default_cam_layer": name or null, "layers": [{"name", "shape", "calls", "map"}]}
std::string layers_json(models::Classifier& model);

}  // namespace glassbox::explain
