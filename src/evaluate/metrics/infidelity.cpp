// Infidelity (Yeh et al. 2019) with Captum's definition: how far the attribution's prediction of a
// perturbation's effect, I . attribution, is from the effect itself, f(x) - f(x - I). All perturbed
// inputs of all samples go through the model in batches of perturbations_per_eval.
#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include "../perturbation.h"
#include "glassbox/evaluate/faithfulness.h"
#include "glassbox/evaluate/metrics.h"
#include "glassbox/util/error.h"

namespace glassbox::evaluate {

namespace {

at::Tensor infidelity_impl(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets,
                           const at::Tensor& attributions, const InfidelityOptions& o, explain::Score score,
                           int64_t per_eval, int64_t first_sample) {
  check_metric_inputs(model, x, targets, attributions, "infidelity");
  GLASSBOX_CHECK_PARAM(o.n_perturb_samples() >= 1, "n_perturb_samples", o.n_perturb_samples(), "expected at least 1");
  const int64_t B = x.size(0), n = o.n_perturb_samples();
  const double stdev = o.stdev();
  const at::Tensor I = draw_per_sample(x, n, o.seed(), first_sample, [&](const at::Tensor& copies, at::Generator& g) {
    if (o.perturb_func()) return o.perturb_func()(copies, g);
    return at::randn(copies.sizes(), g, copies.options()) * stdev;
  });  // [B * n, C, H, W]
  const at::Tensor a = attributions.to(x.device(), x.scalar_type()).repeat_interleave(n, 0);
  const at::Tensor predicted = (I * a).flatten(1).sum(1).to(at::kDouble).view({B, n});
  at::Tensor f_x;
  {
    models::EvalModeGuard eval(model);
    torch::autograd::AutoGradMode no_grad(false);
    f_x = explain::target_scores(model.forward(x).to(at::kFloat), targets, score);
  }
  const at::Tensor f_perturbed = scores_in_batches(model, B * n, [&](int64_t begin, int64_t end) {
    const at::Tensor rows = at::arange(begin, end, targets.options());
    return x.index_select(0, rows.div(n, "floor")) - I.slice(0, begin, end);
  }, targets.repeat_interleave(n), score, per_eval, x);
  const at::Tensor effect = (f_x.repeat_interleave(n) - f_perturbed).to(at::kDouble).view({B, n});
  at::Tensor beta = at::ones({B, 1}, effect.options());
  if (o.normalize()) {
    // Captum's normalisation: the scale that best fits the attribution's predictions to the effects.
    const at::Tensor den = (predicted * predicted).mean(1, true);
    beta = at::where(den.eq(0), at::ones_like(den), (predicted * effect).mean(1, true) / den);
  }
  return (beta * predicted - effect).pow(2).mean(1).to(at::kCPU);
}

class InfidelityMetric final : public Metric {
 public:
  const char* name() const override { return "infidelity"; }
  const char* help() const override {
    return "Captum's infidelity: mean (I . attribution - (f(x) - f(x - I)))^2 over Gaussian perturbations I (lower is better)";
  }
  int better() const override { return -1; }
  MetricResult evaluate(const MetricRequest& r) const override {
    return {infidelity_impl(r.model, r.x, r.targets, r.attributions, r.options.infidelity(), r.options.score(),
                            r.options.perturbations_per_eval(), r.first_sample), {}, {}, {}, {}};
  }
};

}  // namespace

at::Tensor infidelity(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets, const at::Tensor& attributions,
                      const InfidelityOptions& options, explain::Score score, int64_t perturbations_per_eval) {
  return infidelity_impl(model, x, targets, attributions, options, score, perturbations_per_eval, 0);
}

const Metric& infidelity_metric() {
  static const InfidelityMetric metric;
  return metric;
}

}  // namespace glassbox::evaluate
