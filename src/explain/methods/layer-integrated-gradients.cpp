// Layer Integrated Gradients as Captum's LayerIntegratedGradients defines it: the layer's activation
// itself moves along a straight line from its value for the baseline input, a(x'), to its value for x,
// a(x); at each point the rest of the network runs on that activation (the layer's output replaced), and
// the target score's gradient with respect to it is integrated and multiplied by a(x) - a(x'). Shaped
// like the activation, it sums to F(x) - F(x') up to the integration error (completeness), whatever the
// network after the layer computes.
//
// (Moving the input instead and multiplying the layer's mean gradient by a(x) - a(x') agrees with this
// only where the network after the layer is linear in it: on ConvNeXt's last stage it broke
// completeness by orders of magnitude.)
#include <ATen/ATen.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/grad_mode.h>

#include "baselines.h"
#include "glassbox/explain/gradients.h"
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
    const at::Tensor base = broadcast_baseline({}, x).contiguous();
    // Both ends of the path, at the layer (checked there: a layer after the logits is refused).
    const at::Tensor at_x = layer_activation(r.model, x, r.targets, layer, r.options.score(), false).activation;
    const at::Tensor at_base = layer_activation(r.model, base, r.targets, layer, r.options.score(), false).activation;
    const at::Tensor delta = at_x - at_base;
    const int64_t rows = o.internal_batch_size() > 0 ? o.internal_batch_size() : B;
    const int64_t steps_per_pass = std::max<int64_t>(1, rows / std::max<int64_t>(B, 1));
    std::vector<int64_t> step_shape{-1, 1};
    for (int64_t d = 1; d < at_x.dim(); ++d) step_shape.push_back(1);
    models::EvalModeGuard eval(r.model);
    torch::autograd::AutoGradMode enable(true);
    at::Tensor total = at::zeros_like(at_x);
    for (int64_t s0 = 0; s0 < n; s0 += steps_per_pass) {
      const int64_t k = std::min(steps_per_pass, n - s0);
      const auto slice = [&](const std::vector<double>& v) {
        return at::tensor(std::vector<double>(v.begin() + s0, v.begin() + s0 + k), x.options().dtype(at::kDouble))
            .to(x.scalar_type())
            .view(step_shape);
      };
      // k points of the path for each sample, step-major: row j * B + i is sample i at point j.
      std::vector<int64_t> rows_shape{k * B};
      rows_shape.insert(rows_shape.end(), at_x.sizes().begin() + 1, at_x.sizes().end());
      const at::Tensor points = (at_base.unsqueeze(0) + slice(alphas) * delta.unsqueeze(0)).reshape(rows_shape).requires_grad_(true);
      const at::Tensor inputs = x.repeat({k, 1, 1, 1});
      const at::Tensor logits = r.model.forward_replacing_layer(inputs, layer, points);
      const at::Tensor scores = target_scores(logits, r.targets.repeat({k}), r.options.score());
      // Summing is exact: each row's score depends on its own activation only (eval mode).
      const at::Tensor g = torch::autograd::grad({scores.sum()}, {points}, {}, false, false, true)[0];
      GLASSBOX_CHECK_PARAM(g.defined(), "layer", layer, "the class scores do not depend on it");
      std::vector<int64_t> split_shape{k, B};
      split_shape.insert(split_shape.end(), at_x.sizes().begin() + 1, at_x.sizes().end());
      total += (g.view(split_shape) * slice(weights)).sum(0);
    }
    return delta * total;
  }
};

}  // namespace

const AttributionMethod& layer_integrated_gradients_method() {
  static const LayerIntegratedGradientsMethod method;
  return method;
}

}  // namespace glassbox::explain
