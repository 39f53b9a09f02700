// Grad-CAM (Selvaraju et al. 2017; Captum's LayerGradCam, pytorch-grad-cam's GradCAM): each channel of the
// layer's activation weighted by the spatial mean of the target score's gradient there,
//   cam = relu(sum_k mean_hw(dS/dA_k) A_k),
// at the layer's resolution, then upsampled bilinearly to the input.
#include "gradient-cam.h"

namespace glassbox::explain {
namespace {

class GradCamMethod final : public GradientCam {
 public:
  const char* name() const override { return "gradcam"; }
  const char* help() const override {
    return "Grad-CAM: channels weighted by their mean gradient (Captum's LayerGradCam, ReLU on)";
  }

 protected:
  at::Tensor combine(const at::Tensor& a, const at::Tensor& g) const override {
    return (g.mean({2, 3}, /*keepdim=*/true) * a).sum(1);
  }
};

}  // namespace

const AttributionMethod& gradcam_method() {
  static const GradCamMethod method;
  return method;
}

}  // namespace glassbox::explain
