// How an input specification's parts are written in JSON, shared by checkpoint metadata and a
// TorchScript model's model.json, so that both read them by one rule:
//   "preprocess":    {"channels": "keep"|"gray"|"rgb", "resize": R, "crop": C}
//   "normalization": {"mean": [...], "std": [...]}          (empty arrays: none)
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>

#include "glassbox/data/normalization.h"
#include "glassbox/data/preprocess.h"
#include "glassbox/util/json-fields.h"

namespace glassbox::models {

nlohmann::json preprocess_json(const data::Preprocess& preprocess);  // without its normalisation
nlohmann::json normalization_json(const data::Normalization& normalization);
// Fields checked for type and range; errors name `fields.where()`.
data::Preprocess preprocess_from_json(const JsonFields& fields);
data::Normalization normalization_from_json(const JsonFields& fields, int64_t channels);

}  // namespace glassbox::models
