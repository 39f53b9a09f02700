// The JSON, PNG and .npy bodies the server answers with, built from a worker's Outcome.
#pragma once

#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>

#include <string>

#include "glassbox/models/model.h"
#include "model-worker.h"
#include "question.h"

namespace glassbox::serve {

// One input's prediction: {"class", "label", "probability", "probabilities": [K], "top": [{"class",
// "label", "probability"}, ... top_k]}.
nlohmann::json prediction_json(const models::Model& model, const at::Tensor& probabilities, int64_t top_k);

// One input's explanation (input `i` of the request): {"method", "layer", "targets": [{"class", "label",
// "probability", "attribution": {"dtype": "float32", "byteorder": "little", "shape", "b64"},
// "overlay_png": base64 PNG, "metrics": {...}}]}. `display`: the request's inputs as [0, 1] pixels.
nlohmann::json explanation_json(const models::Model& model, const Question& question, const Outcome& outcome,
                                const at::Tensor& display, int64_t i);

// One input's morph: {"target", "label", "reached", "steps", "probability": [per frame], "gif": base64}.
nlohmann::json morph_json(const models::Model& model, const Question& question, const Outcome& outcome, int64_t i);

// The attribution `drawn` [C', H, W] over the image `display` [C, H, W] (pixels in [0, 1]) at the input's
// resolution, reduced as Captum's visualize_image_attr does; a CAM blended with one weight everywhere.
std::string overlay_png(const at::Tensor& display, const at::Tensor& drawn, explain::AttributionSign sign, double alpha,
                        bool fade);

// `t` as little-endian float32 bytes, and as a NumPy .npy file (format 1.0, '<f4', C order).
std::string float32_bytes(const at::Tensor& t);
std::string npy_bytes(const at::Tensor& t);

}  // namespace glassbox::serve
