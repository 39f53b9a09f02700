// Integrated Gradients (Captum's IntegratedGradients): the path integral of the target score's gradient
// from a baseline to the input, times (input - baseline); its rules for the integral, with Captum's names.
#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <cmath>

#include "baselines.h"
#include "glassbox/explain/methods.h"
#include "glassbox/util/error.h"
#include "glassbox/util/enum-names.h"

namespace glassbox::explain {
namespace {

// Gauss-Legendre nodes and weights on [-1, 1] by Newton's method on P_n (Golub-Welsch would also do;
// n is small here, so the classic iteration from Chebyshev guesses converges in a few steps).
void gauss_legendre(int64_t n, std::vector<double>& nodes, std::vector<double>& weights) {
  nodes.assign(static_cast<size_t>(n), 0.0);
  weights.assign(static_cast<size_t>(n), 0.0);
  for (int64_t i = 0; i < (n + 1) / 2; ++i) {
    double z = std::cos(M_PI * (double(i) + 0.75) / (double(n) + 0.5));
    double dp = 0;
    for (int iter = 0; iter < 100; ++iter) {
      double p0 = 1, p1 = z;  // P_0, P_1
      for (int64_t k = 2; k <= n; ++k) {
        const double pk = ((2.0 * k - 1) * z * p1 - (k - 1.0) * p0) / double(k);
        p0 = p1;
        p1 = pk;
      }
      if (n == 1) p0 = 1, p1 = z;
      dp = double(n) * (z * p1 - p0) / (z * z - 1);  // P_n'(z)
      const double dz = p1 / dp;
      z -= dz;
      if (std::abs(dz) < 1e-15) break;
    }
    // Recompute the derivative at the converged node for the weight.
    double p0 = 1, p1 = z;
    for (int64_t k = 2; k <= n; ++k) {
      const double pk = ((2.0 * k - 1) * z * p1 - (k - 1.0) * p0) / double(k);
      p0 = p1;
      p1 = pk;
    }
    dp = n == 1 ? 1.0 : double(n) * (z * p1 - p0) / (z * z - 1);
    const double w = 2.0 / ((1 - z * z) * dp * dp);
    nodes[static_cast<size_t>(i)] = -z;
    nodes[static_cast<size_t>(n - 1 - i)] = z;
    weights[static_cast<size_t>(i)] = weights[static_cast<size_t>(n - 1 - i)] = w;
  }
}

}  // namespace

namespace {
// IntegrationRule's order; Captum's names.
const char* const kRuleNames[] = {"gausslegendre", "riemann_left", "riemann_right", "riemann_middle", "riemann_trapezoid"};
}  // namespace

std::vector<std::string> integration_rule_names() { return enum_names(kRuleNames); }
IntegrationRule parse_integration_rule(const std::string& name) {
  return enum_from_name<IntegrationRule>(kRuleNames, name, "method");
}
const char* integration_rule_name(IntegrationRule rule) { return enum_name(kRuleNames, rule); }

void integration_points(IntegrationRule rule, int64_t n, std::vector<double>& alphas, std::vector<double>& weights) {
  GLASSBOX_CHECK_PARAM(n >= 1 && n <= kMaxIntegrationSteps, "n_steps", n, "expected 1..", kMaxIntegrationSteps);
  alphas.clear();
  weights.clear();
  if (rule == IntegrationRule::gauss_legendre) {
    std::vector<double> nodes, w;
    gauss_legendre(n, nodes, w);
    for (int64_t i = 0; i < n; ++i) {
      alphas.push_back(0.5 * (nodes[i] + 1));  // [-1, 1] -> [0, 1]
      weights.push_back(0.5 * w[i]);
    }
    return;
  }
  if (rule == IntegrationRule::riemann_trapezoid) {
    GLASSBOX_CHECK_PARAM(n >= 2, "n_steps", n, "riemann_trapezoid needs at least 2");
    for (int64_t i = 0; i < n; ++i) {
      alphas.push_back(double(i) / double(n - 1));
      weights.push_back((i == 0 || i == n - 1 ? 0.5 : 1.0) / double(n - 1));
    }
    return;
  }
  const double offset = rule == IntegrationRule::riemann_left ? 0.0 : rule == IntegrationRule::riemann_right ? 1.0 : 0.5;
  for (int64_t i = 0; i < n; ++i) {
    alphas.push_back((double(i) + offset) / double(n));
    weights.push_back(1.0 / double(n));
  }
}

Attribution integrated_gradients(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets,
                                 const at::Tensor& baselines, const IntegratedGradientsOptions& o) {
  check_batch(model, x, targets);
  std::vector<double> alphas, weights;
  integration_points(o.method(), o.n_steps(), alphas, weights);
  models::EvalModeGuard eval(model);
  const int64_t B = x.size(0), n = o.n_steps();
  const at::Tensor base = broadcast_baseline(baselines, x);
  const at::Tensor diff = x - base;
  const int64_t rows_per_pass = o.internal_batch_size() > 0 ? o.internal_batch_size() : B;
  // Steps per pass: whole copies of the batch, so each pass has one alpha per copy.
  const int64_t steps_per_pass = std::max<int64_t>(1, rows_per_pass / std::max<int64_t>(B, 1));
  at::Tensor total = at::zeros_like(x);
  const at::Tensor alpha_all = at::tensor(alphas, x.options().dtype(at::kDouble)).to(x.scalar_type());
  const at::Tensor weight_all = at::tensor(weights, x.options().dtype(at::kDouble)).to(x.scalar_type());
  for (int64_t s0 = 0; s0 < n; s0 += steps_per_pass) {
    const int64_t k = std::min(steps_per_pass, n - s0);
    // [k, B, C, H, W] scaled inputs, flattened to [k*B, C, H, W].
    const at::Tensor a = alpha_all.slice(0, s0, s0 + k).view({k, 1, 1, 1, 1});
    const at::Tensor scaled = (base.unsqueeze(0) + a * diff.unsqueeze(0)).reshape({k * B, x.size(1), x.size(2), x.size(3)});
    const at::Tensor g = input_gradients_unchecked(model, scaled, targets.repeat({k}), o.score());
    const at::Tensor w = weight_all.slice(0, s0, s0 + k).view({k, 1, 1, 1, 1});
    total.add_((g.view({k, B, x.size(1), x.size(2), x.size(3)}) * w).sum(0));
  }
  Attribution r;
  r.attributions = total * diff;
  if (o.return_convergence_delta()) {
    torch::autograd::AutoGradMode no_grad(false);
    const at::Tensor fx = target_scores(model.forward(x), targets, o.score());
    const at::Tensor fb = target_scores(model.forward(base.contiguous()), targets, o.score());
    r.delta = r.attributions.flatten(1).sum(1) - (fx - fb);
  }
  return r;
}

namespace {

class IntegratedGradientsMethod final : public AttributionMethod {
 public:
  const char* name() const override { return "ig"; }
  const char* help() const override {
    return "Integrated Gradients from a zero baseline (Captum's IntegratedGradients)";
  }
  std::vector<std::string> options() const override {
    return {"score", "integrated_gradients.n_steps", "integrated_gradients.method",
            "integrated_gradients.internal_batch_size"};
  }
  at::Tensor attribute(const AttributionRequest& r) const override {
    IntegratedGradientsOptions o = r.options.integrated_gradients();
    return integrated_gradients(r.model, r.x, r.targets, {}, o.score(r.options.score())).attributions;
  }
};

}  // namespace

const AttributionMethod& integrated_gradients_method() {
  static const IntegratedGradientsMethod method;
  return method;
}

}  // namespace glassbox::explain
