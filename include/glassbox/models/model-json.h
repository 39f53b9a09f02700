// model.json: what a TorchScript file does not say about itself, written once beside it (resnet.json
// beside resnet.pt) when the model is exported from Python, so that every glassbox command and the
// library know the model fully:
//   {
//     "input_shape":   [3, 224, 224],                                   C, H, W
//     "preprocess":    {"channels": "rgb", "resize": 256, "crop": 224},  torchvision's transforms
//     "normalization": {"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]},
//     "class_names":   ["tench", "goldfish", ...]                       optional; one per class
//     "logits":        "logits"   optional: where forward's tuple or dict keeps them (an index or key)
//   }
// "preprocess" and "normalization" may be left out (no transform). Read with bounds: the file is at
// most 16 MiB, nesting is bounded, every field's type and range checked, and unknown keys are refused
// (a misspelt key must not silently drop a normalisation).
#pragma once

#include <string>

#include "glassbox/models/input-spec.h"
#include "glassbox/models/model-options.h"

namespace glassbox::models {

struct ModelJson {
  InputShape input_shape;
  InputSpec spec;
  std::string logits;  // TorchScriptOptions::logits; empty when not stated
};

// The sidecar's path for a model file: the same name with ".json" in place of its extension.
std::string model_json_path(const std::string& model_path);
// Reads and checks `path`. Errors are one line naming the file and the field.
ModelJson read_model_json(const std::string& path);
// Parses model.json text; errors name `path`.
ModelJson parse_model_json(const std::string& text, const std::string& path);
// The text of a model.json for `shape` and `spec` (what read_model_json reads back).
std::string model_json_text(const InputShape& shape, const InputSpec& spec, const std::string& logits = {});

}  // namespace glassbox::models
