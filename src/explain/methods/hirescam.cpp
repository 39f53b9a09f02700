// HiResCAM (Draelos and Carin 2020): the gradient times the activation, position by position, summed
// over channels, cam = relu(sum_k g_k * A_k); faithful where Grad-CAM's averaging is not.
#include "gradient-cam.h"

namespace glassbox::explain {
namespace {

class HiResCamMethod final : public GradientCam {
 public:
  const char* name() const override { return "hirescam"; }
  const char* help() const override {
    return "HiResCAM: gradient times activation, summed over channels (pytorch-grad-cam's HiResCAM)";
  }

 protected:
  at::Tensor combine(const at::Tensor& a, const at::Tensor& g) const override { return (g * a).sum(1); }
};

}  // namespace

const AttributionMethod& hirescam_method() {
  static const HiResCamMethod method;
  return method;
}

}  // namespace glassbox::explain
