#include "instances.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <cmath>

#include "base64.h"
#include "glassbox/data/image-decode.h"
#include "glassbox/util/bounded-json.h"
#include "glassbox/util/error.h"

namespace glassbox::serve {
namespace {

at::Tensor prepare_image(std::string_view bytes, const models::Model& model, const ServerOptions& options,
                         const std::string& name) {
  data::DecodeOptions decode;
  decode.max_pixels = options.max_image_pixels();
  const data::DecodedImage image = data::decode_image(bytes, name, decode);
  return model.spec().prepare({image}, model.input_shape(), {name});
}

// [C, H, W] nested lists, each level's length checked before anything is allocated.
at::Tensor read_tensor(const nlohmann::json& v, const models::Model& model, const std::string& name) {
  const models::InputShape s = model.input_shape();
  const int64_t sizes[3] = {s.channels, s.height, s.width};
  const auto check_level = [&](const nlohmann::json& a, int level) {
    GLASSBOX_CHECK(a.is_array() && int64_t(a.size()) == sizes[level], name, ": a tensor's level ", level, " is ",
                   describe_json(a), ", expected ", sizes[level], " entries (the model takes [", s.channels, ", ",
                   s.height, ", ", s.width, "])");
  };
  check_level(v, 0);
  std::vector<float> data;
  data.reserve(size_t(s.channels * s.height * s.width));
  for (const auto& plane : v) {
    check_level(plane, 1);
    for (const auto& row : plane) {
      check_level(row, 2);
      for (const auto& x : row) {
        GLASSBOX_CHECK(x.is_number() && std::isfinite(x.get<double>()), name, ": a tensor holds ", describe_json(x),
                       ", expected finite numbers");
        data.push_back(x.get<float>());
      }
    }
  }
  return at::tensor(data, at::kFloat).reshape({1, s.channels, s.height, s.width});
}

}  // namespace

at::Tensor read_instances(const nlohmann::json& instances, const models::Model& model, const ServerOptions& options) {
  GLASSBOX_CHECK(instances.is_array() && !instances.empty(), "instances: ", describe_json(instances),
                 ", expected a non-empty list of images or tensors");
  GLASSBOX_CHECK(int64_t(instances.size()) <= options.max_instances(), "instances: ", instances.size(),
                 " inputs, at most ", options.max_instances(), " in one request");
  std::vector<at::Tensor> rows;
  for (size_t i = 0; i < instances.size(); ++i) {
    const std::string name = "instances[" + std::to_string(i) + "]";
    const nlohmann::json* v = &instances[i];
    if (v->is_object() && v->contains("image")) v = &(*v)["image"];
    if (v->is_object() && v->contains("b64")) v = &(*v)["b64"];
    if (v->is_string()) {
      const std::string bytes = base64_decode(v->get_ref<const std::string&>(), name, size_t(options.max_body_bytes()));
      rows.push_back(prepare_image(bytes, model, options, name));
    } else if (v->is_array()) {
      rows.push_back(read_tensor(*v, model, name));
    } else {
      GLASSBOX_CHECK(false, name, ": ", describe_json(*v),
                     ", expected a base64 image (a string, or {\"b64\": ...}) or [C, H, W] nested lists");
    }
  }
  return at::cat(rows);
}

at::Tensor read_image_body(std::string_view bytes, const models::Model& model, const ServerOptions& options) {
  GLASSBOX_CHECK(!bytes.empty(), "body: empty, expected the bytes of a PNG or JPEG image");
  return prepare_image(bytes, model, options, "body");
}

}  // namespace glassbox::serve
