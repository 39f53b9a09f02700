// HiResCAM (Draelos and Carin 2020): the gradient times the activation, position by position, summed
// over channels, cam = relu(sum_k g_k * A_k); faithful where Grad-CAM's averaging is not.
#include <ATen/ATen.h>

#include "glassbox/explain/layer-attribution.h"
#include "glassbox/explain/methods.h"

namespace glassbox::explain {
namespace {

class HiResCamMethod final : public AttributionMethod {
 public:
  const char* name() const override { return "hirescam"; }
  const char* help() const override { return "HiResCAM: gradient times activation, summed over channels (pytorch-grad-cam's HiResCAM)"; }
  std::vector<std::string> options() const override { return {"score", "layer.layer", "layer.relu", "layer.upsample"}; }
  bool uses_layer() const override { return true; }
  at::Tensor attribute(const AttributionRequest& r) const override {
    const std::string layer = resolved_layer(r.model, r.options.layer());
    const LayerActivation a = layer_activation(r.model, r.x, r.targets, layer, r.options.score(), true);
    check_cam_activation(a.activation, layer);
    return finish_cam((a.gradients * a.activation).sum(1), r.x, r.options.layer());
  }
};

}  // namespace

const AttributionMethod& hirescam_method() {
  static const HiResCamMethod method;
  return method;
}

}  // namespace glassbox::explain
