// Eigen-CAM (Muhammad and Yeasin 2020), as pytorch-grad-cam computes it, gradient-free and blind to the
// target: the activation as (positions x channels), centred per channel, projected on its first right
// singular vector. An SVD's sign is arbitrary; glassbox fixes it so that the map correlates positively
// with the channel-summed activation (where the layer is most active is shown as most present), then
// keeps the positive part.
#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include "glassbox/explain/layer-attribution.h"
#include "glassbox/explain/layer-map.h"
#include "glassbox/explain/methods.h"

namespace glassbox::explain {
namespace {

class EigenCamMethod final : public AttributionMethod {
 public:
  const char* name() const override { return "eigencam"; }
  const char* help() const override {
    return "Eigen-CAM: the activation's first principal component (pytorch-grad-cam's EigenCAM; no gradients, any target)";
  }
  std::vector<std::string> options() const override {
    return {"layer.layer", "layer.relu", "layer.upsample", "layer.layout", "layer.prefix_tokens"};
  }
  bool reads_map() const override { return true; }
  bool uses_layer() const override { return true; }
  at::Tensor attribute(const AttributionRequest& r) const override {
    const std::string layer = resolved_layer(r.model, r.options.layer());
    const LayerActivation a = layer_activation(r.model, r.x, r.targets, layer, r.options.score(), false);
    const at::Tensor A = to_map(a.activation, read_as_map(a.activation.sizes(), r.options.layer(), r.x.size(2), r.x.size(3), layer));
    torch::autograd::AutoGradMode no_grad(false);
    const int64_t B = A.size(0), K = A.size(1), h = A.size(2), w = A.size(3);
    at::Tensor cams = at::empty({B, h, w}, A.options());
    for (int64_t b = 0; b < B; ++b) {
      const at::Tensor m = A[b].reshape({K, h * w}).t().to(at::kDouble);  // positions x channels
      const at::Tensor centred = m - m.mean(0, true);
      const at::Tensor vt = std::get<2>(at::linalg_svd(centred, /*full_matrices=*/false));
      at::Tensor projection = centred.matmul(vt[0]);
      const at::Tensor summed = m.sum(1);
      if ((projection * (summed - summed.mean())).sum().item<double>() < 0) projection = -projection;
      cams[b] = projection.reshape({h, w}).to(A.scalar_type());
    }
    return finish_cam(cams, r.x, r.options.layer());
  }
};

}  // namespace

const AttributionMethod& eigencam_method() {
  static const EigenCamMethod method;
  return method;
}

}  // namespace glassbox::explain
