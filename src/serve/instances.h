// A request's inputs made the model's: photographs (PNG or JPEG bytes, base64 in JSON or a raw body)
// decoded within the pixel cap and prepared by the model's input specification; tensors given as nested
// lists checked against the model's input shape.
#pragma once

#include <ATen/core/Tensor.h>
#include <nlohmann/json_fwd.hpp>

#include <string>
#include <string_view>

#include "glassbox/models/model.h"
#include "glassbox/serve/server-options.h"

namespace glassbox::serve {

// KServe V1's "instances": each a base64 image (a string, a data URL, {"b64": ...}, {"image": ...} or
// {"image": {"b64": ...}}), or [C, H, W] nested lists of numbers in the model's input space (normalised
// as its inputs are). Returns [n, C, H, W] on the CPU. Errors name "instances[i]".
at::Tensor read_instances(const nlohmann::json& instances, const models::Model& model, const ServerOptions& options);

// One image sent as a request's whole body (TorchServe's way). Errors name "body".
at::Tensor read_image_body(std::string_view bytes, const models::Model& model, const ServerOptions& options);

}  // namespace glassbox::serve
