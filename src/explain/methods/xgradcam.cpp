// XGrad-CAM (Fu et al. 2020), as pytorch-grad-cam computes it: each channel weighted by its gradient
// averaged with the activation itself as weights, w_k = sum_hw(g A_k) / (sum_hw A_k + 1e-7), the weights
// that make the CAM satisfy the paper's sensitivity and conservation axioms for ReLU networks;
//   cam = relu(sum_k w_k A_k).
#include "gradient-cam.h"

namespace glassbox::explain {
namespace {

class XGradCamMethod final : public GradientCam {
 public:
  const char* name() const override { return "xgradcam"; }
  const char* help() const override {
    return "XGrad-CAM: channels weighted by their activation-weighted gradient (pytorch-grad-cam's XGradCAM)";
  }

 protected:
  at::Tensor combine(const at::Tensor& a, const at::Tensor& g) const override {
    const at::Tensor weights = (g * a).sum({2, 3}, true) / (a.sum({2, 3}, true) + 1e-7);
    return (weights * a).sum(1);
  }
};

}  // namespace

const AttributionMethod& xgradcam_method() {
  static const XGradCamMethod method;
  return method;
}

}  // namespace glassbox::explain
