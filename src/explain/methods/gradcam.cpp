// Grad-CAM (Selvaraju et al. 2017; Captum's LayerGradCam, pytorch-grad-cam's GradCAM): each channel of the
// layer's activation weighted by the spatial mean of the target score's gradient there,
//   cam = relu(sum_k mean_hw(dS/dA_k) A_k),
// at the layer's resolution, then upsampled bilinearly to the input.
#include <ATen/ATen.h>

#include "glassbox/explain/layer-attribution.h"
#include "glassbox/explain/methods.h"

namespace glassbox::explain {
namespace {

class GradCamMethod final : public AttributionMethod {
 public:
  const char* name() const override { return "gradcam"; }
  const char* help() const override {
    return "Grad-CAM: channels weighted by their mean gradient (Captum's LayerGradCam, ReLU on)";
  }
  std::vector<std::string> options() const override { return {"score", "layer.layer", "layer.relu", "layer.upsample"}; }
  bool uses_layer() const override { return true; }
  at::Tensor attribute(const AttributionRequest& r) const override {
    const std::string layer = resolved_layer(r.model, r.options.layer());
    const LayerActivation a = layer_activation(r.model, r.x, r.targets, layer, r.options.score(), true);
    check_cam_activation(a.activation, layer);
    const at::Tensor weights = a.gradients.mean({2, 3}, /*keepdim=*/true);
    return finish_cam((weights * a.activation).sum(1), r.x, r.options.layer());
  }
};

}  // namespace

const AttributionMethod& gradcam_method() {
  static const GradCamMethod method;
  return method;
}

}  // namespace glassbox::explain
