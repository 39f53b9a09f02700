// Layer Integrated Gradients (Captum's LayerIntegratedGradients): the input moves from the baseline to x;
// the target score's gradient with respect to the layer's activation is integrated along that path and
// multiplied by (activation at x - activation at the baseline). Shaped like the activation; it sums to
// F(x) - F(baseline) as the integral is exact.
#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include "baselines.h"
#include "glassbox/explain/layer-attribution.h"
#include "glassbox/explain/methods.h"

namespace glassbox::explain {
namespace {

class LayerIntegratedGradientsMethod final : public AttributionMethod {
 public:
  const char* name() const override { return "layer_ig"; }
  const char* help() const override {
    return "Layer Integrated Gradients from a zero input, shaped like the layer (Captum's LayerIntegratedGradients)";
  }
  std::vector<std::string> options() const override {
    return {"score", "layer.layer", "integrated_gradients.n_steps", "integrated_gradients.method",
            "integrated_gradients.internal_batch_size"};
  }
  bool uses_layer() const override { return true; }
  at::Tensor attribute(const AttributionRequest& r) const override {
    const std::string layer = resolved_layer(r.model, r.options.layer());
    const IntegratedGradientsOptions& o = r.options.integrated_gradients();
    std::vector<double> alphas, weights;
    integration_points(o.method(), o.n_steps(), alphas, weights);
    const at::Tensor& x = r.x;
    const int64_t B = x.size(0), n = o.n_steps();
    const at::Tensor base = broadcast_baseline({}, x), diff = x - base;
    const int64_t rows = o.internal_batch_size() > 0 ? o.internal_batch_size() : B;
    const int64_t steps_per_pass = std::max<int64_t>(1, rows / std::max<int64_t>(B, 1));
    at::Tensor total;
    for (int64_t s0 = 0; s0 < n; s0 += steps_per_pass) {
      const int64_t k = std::min(steps_per_pass, n - s0);
      const at::Tensor a = at::tensor(std::vector<double>(alphas.begin() + s0, alphas.begin() + s0 + k), x.options().dtype(at::kDouble))
                               .to(x.scalar_type())
                               .view({k, 1, 1, 1, 1});
      const at::Tensor scaled = (base.unsqueeze(0) + a * diff.unsqueeze(0)).reshape({k * B, x.size(1), x.size(2), x.size(3)});
      const LayerActivation g = layer_activation(r.model, scaled, r.targets.repeat({k}), layer, r.options.score(), true);
      std::vector<int64_t> shape{k, B};
      shape.insert(shape.end(), g.gradients.sizes().begin() + 1, g.gradients.sizes().end());
      const at::Tensor w = at::tensor(std::vector<double>(weights.begin() + s0, weights.begin() + s0 + k), x.options().dtype(at::kDouble))
                               .to(x.scalar_type());
      std::vector<int64_t> wshape(shape.size(), 1);
      wshape[0] = k;
      const at::Tensor part = (g.gradients.view(shape) * w.view(wshape)).sum(0);
      total = total.defined() ? total + part : part;
    }
    const at::Tensor at_x = layer_activation(r.model, x, r.targets, layer, r.options.score(), false).activation;
    const at::Tensor at_base = layer_activation(r.model, base.contiguous(), r.targets, layer, r.options.score(), false).activation;
    return (at_x - at_base) * total;
  }
};

}  // namespace

const AttributionMethod& layer_integrated_gradients_method() {
  static const LayerIntegratedGradientsMethod method;
  return method;
}

}  // namespace glassbox::explain
