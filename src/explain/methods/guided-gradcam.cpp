// Guided Grad-CAM (Selvaraju et al. 2017; Captum's GuidedGradCam): Guided Backprop's fine-grained
// gradient times the Grad-CAM of its layer (ReLU on), the map upsampled to the input by nearest
// neighbour as Captum does, so that only the pixels in the class's region keep their detail.
#include <ATen/ATen.h>

#include "glassbox/explain/methods.h"
#include "glassbox/explain/modified-backward.h"

namespace glassbox::explain {
namespace {

class GuidedGradCamMethod final : public AttributionMethod {
 public:
  const char* name() const override { return "guided_gradcam"; }
  const char* help() const override {
    return "Guided Grad-CAM: Guided Backprop times the layer's Grad-CAM (Captum's GuidedGradCam)";
  }
  std::vector<std::string> options() const override {
    return {"score", "layer.layer", "layer.layout", "layer.prefix_tokens"};
  }
  bool uses_layer() const override { return true; }
  bool reads_map() const override { return true; }
  at::Tensor attribute(const AttributionRequest& r) const override {
    AttributeOptions cam_options = r.options;
    cam_options.layer().relu(true).upsample(false);
    const at::Tensor cam = find_attribution_method("gradcam").attribute({r.model, r.x, r.targets, cam_options});
    const at::Tensor guided = guided_backprop(r.model, r.x, r.targets, r.options.score());
    return guided * at::upsample_nearest2d(cam, {r.x.size(2), r.x.size(3)});
  }
};

}  // namespace

const AttributionMethod& guided_gradcam_method() {
  static const GuidedGradCamMethod method;
  return method;
}

}  // namespace glassbox::explain
