// LayerCAM (Jiang et al. 2021), as pytorch-grad-cam computes it: every position of every channel weighted
// by its own positive gradient, cam = relu(sum_k relu(g_k) A_k). Unlike Grad-CAM it keeps fine detail at
// shallow layers, where averaging the gradient over the map washes it out.
#include "gradient-cam.h"

namespace glassbox::explain {
namespace {

class LayerCamMethod final : public GradientCam {
 public:
  const char* name() const override { return "layercam"; }
  const char* help() const override {
    return "LayerCAM: each position weighted by its positive gradient (pytorch-grad-cam's LayerCAM)";
  }

 protected:
  at::Tensor combine(const at::Tensor& a, const at::Tensor& g) const override { return (at::relu(g) * a).sum(1); }
};

}  // namespace

const AttributionMethod& layercam_method() {
  static const LayerCamMethod method;
  return method;
}

}  // namespace glassbox::explain
