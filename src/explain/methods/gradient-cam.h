// The CAMs made from a layer's activation A and the target score's gradient there (Grad-CAM, Grad-CAM++,
// HiResCAM): a method only says how the two combine into a map [B, h, w]; choosing the layer, the
// checks, the ReLU and the upsampling are shared.
#pragma once

#include <ATen/ATen.h>

#include "glassbox/explain/layer-attribution.h"
#include "glassbox/explain/layer-map.h"
#include "glassbox/explain/methods.h"

namespace glassbox::explain {

class GradientCam : public AttributionMethod {
 public:
  std::vector<std::string> options() const override {
    return {"score", "layer.layer", "layer.relu", "layer.upsample", "layer.layout", "layer.prefix_tokens"};
  }
  bool uses_layer() const override { return true; }
  bool reads_map() const override { return true; }
  at::Tensor attribute(const AttributionRequest& r) const override {
    const std::string layer = resolved_layer(r.model, r.options.layer());
    const LayerActivation a = layer_activation(r.model, r.x, r.targets, layer, r.options.score(), true);
    const MapReading m = read_as_map(a.activation.sizes(), r.options.layer(), r.x.size(2), r.x.size(3), layer);
    return finish_cam(combine(to_map(a.activation, m), to_map(a.gradients, m)), r.x, r.options.layer());
  }

 protected:
  // activation, gradients: [B, K, h, w] -> the map before its ReLU, [B, h, w].
  virtual at::Tensor combine(const at::Tensor& activation, const at::Tensor& gradients) const = 0;
};

}  // namespace glassbox::explain
