// The CAMs made from a layer's activation A and the target score's gradient there (Grad-CAM, Grad-CAM++,
// HiResCAM): a method only says how the two combine into a map [B, h, w]; choosing the layer, the
// checks, the ReLU and the upsampling are shared.
#pragma once

#include <ATen/ATen.h>

#include "glassbox/explain/layer-attribution.h"
#include "glassbox/explain/methods.h"

namespace glassbox::explain {

class GradientCam : public AttributionMethod {
 public:
  std::vector<std::string> options() const override { return {"score", "layer.layer", "layer.relu", "layer.upsample"}; }
  bool uses_layer() const override { return true; }
  at::Tensor attribute(const AttributionRequest& r) const override {
    const std::string layer = resolved_layer(r.model, r.options.layer());
    const LayerActivation a = layer_activation(r.model, r.x, r.targets, layer, r.options.score(), true);
    check_cam_activation(a.activation, layer);
    return finish_cam(combine(a.activation, a.gradients), r.x, r.options.layer());
  }

 protected:
  // activation, gradients: [B, K, h, w] -> the map before its ReLU, [B, h, w].
  virtual at::Tensor combine(const at::Tensor& activation, const at::Tensor& gradients) const = 0;
};

}  // namespace glassbox::explain
