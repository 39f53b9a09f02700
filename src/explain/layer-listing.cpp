#include "glassbox/explain/layer-listing.h"

#include <nlohmann/json.hpp>

#include <cstdio>

#include "glassbox/explain/layer-attribution.h"
#include "glassbox/explain/layer-map.h"
#include "glassbox/util/bounded-json.h"
#include "glassbox/util/error.h"
#include "glassbox/util/terminal-text.h"

namespace glassbox::explain {
namespace {

// The default CAM layer, or "" for a model without one (a listing still lists its layers).
std::string cam_layer_or_none(models::Classifier& model) {
  try {
    return default_cam_layer(model);
  } catch (const Error&) {
    return "";
  }
}

// How CAMs would read the layer as a map, when it is tokens or channels last ("" otherwise).
std::string map_reading(const models::LayerInfo& l, const models::InputShape& input) {
  const auto m = read_listed_layer_as_map(l.shape, input.height, input.width);
  if (!m || m->layout == LayerLayout::channels_first) return "";
  std::vector<int64_t> sizes{1};
  sizes.insert(sizes.end(), l.shape.begin(), l.shape.end());
  const std::string d = m->describe(sizes);
  return d.substr(d.find("read as"));
}

}  // namespace

std::string layers_text(models::Classifier& model) {
  const std::vector<models::LayerInfo> layers = model.layers();
  const std::string cam = cam_layer_or_none(model);
  const models::InputShape s = model.input_shape();
  std::string out = terminal_text(model.name()) + ", input " + std::to_string(s.channels) + "x" + std::to_string(s.height) +
                    "x" + std::to_string(s.width) + ": " + std::to_string(layers.size()) + " layers\n";
  char line[512];
  for (const models::LayerInfo& l : layers) {
    std::string shape;
    for (int64_t d : l.shape) shape += (shape.empty() ? "" : "x") + std::to_string(d);
    const std::string map = map_reading(l, s);
    std::snprintf(line, sizeof line, "  %-28s %-16s%s%s%s\n", printable_excerpt(l.name, 60).c_str(),
                  shape.empty() ? "(not a tensor)" : shape.c_str(),
                  l.calls > 1 ? ("  called " + std::to_string(l.calls) + " times: not available").c_str() : "",
                  map.empty() ? "" : ("  CAMs: " + map).c_str(), l.name == cam ? "  <- CAM methods' default" : "");
    out += line;
  }
  if (cam.empty()) out += "no layer reads as a map whose positions the scores depend on: CAM methods cannot run on this model\n";
  return out;
}

std::string layers_json(models::Classifier& model) {
  const std::string cam = cam_layer_or_none(model);
  const models::InputShape s = model.input_shape();
  nlohmann::json out = {{"model", model.name()},
                        {"input_shape", {s.channels, s.height, s.width}},
                        {"default_cam_layer", cam.empty() ? nlohmann::json(nullptr) : nlohmann::json(cam)},
                        {"layers", nlohmann::json::array()}};
  for (const models::LayerInfo& l : model.layers()) {
    const std::string map = map_reading(l, s);
    out["layers"].push_back({{"name", l.name}, {"shape", l.shape}, {"calls", l.calls},
                             {"map", map.empty() ? nlohmann::json(nullptr) : nlohmann::json(map)}});
  }
  return json_text(out) + "\n";
}

}  // namespace glassbox::explain
