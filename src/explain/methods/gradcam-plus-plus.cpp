// Grad-CAM++ (Chattopadhay et al. 2018), as pytorch-grad-cam computes it: per-position weights
//   a = g^2 / (2 g^2 + sum_hw(A) g^3)   (0 where g is 0, and where the denominator is 0 the numerator
//   is divided by 1), channel weights w_k = sum_hw(a relu(g)), cam = relu(sum_k w_k A_k).
#include "gradient-cam.h"

namespace glassbox::explain {
namespace {

class GradCamPlusPlusMethod final : public GradientCam {
 public:
  const char* name() const override { return "gradcampp"; }
  const char* help() const override { return "Grad-CAM++: position-weighted gradients (pytorch-grad-cam's GradCAMPlusPlus)"; }

 protected:
  at::Tensor combine(const at::Tensor& a, const at::Tensor& g) const override {
    const at::Tensor g2 = g * g, g3 = g2 * g;
    const at::Tensor denominator = 2 * g2 + a.sum({2, 3}, true) * g3;
    const at::Tensor alpha = at::where(g != 0, g2 / at::where(denominator != 0, denominator, at::ones_like(denominator)),
                                       at::zeros_like(g));
    return ((alpha * at::relu(g)).sum({2, 3}, true) * a).sum(1);
  }
};

}  // namespace

const AttributionMethod& gradcam_plus_plus_method() {
  static const GradCamPlusPlusMethod method;
  return method;
}

}  // namespace glassbox::explain
