// Max-sensitivity (Yeh et al. 2019) with Captum's sensitivity_max definition: how much the explanation
// moves when the input moves a little. The perturbed inputs are explained in batches of
// perturbations_per_eval.
#include <ATen/ATen.h>

#include "../perturbation.h"
#include "glassbox/evaluate/faithfulness.h"
#include "glassbox/evaluate/metrics.h"
#include "glassbox/util/error.h"

namespace glassbox::evaluate {

namespace {

at::Tensor sensitivity_impl(const ExplainFunction& explain, const at::Tensor& x, const at::Tensor& targets,
                            const SensitivityOptions& o, int64_t per_eval, int64_t first_sample) {
  GLASSBOX_CHECK_PARAM(o.n_perturb_samples() >= 1, "n_perturb_samples", o.n_perturb_samples(), "expected at least 1");
  GLASSBOX_CHECK_PARAM(o.perturb_radius() > 0, "perturb_radius", o.perturb_radius(), "expected a number > 0");
  const int64_t B = x.size(0), n = o.n_perturb_samples();
  const double radius = o.perturb_radius();
  const at::Tensor I = draw_per_sample(x, n, o.seed(), first_sample, [&](const at::Tensor& copies, at::Generator& g) {
    if (o.perturb_func()) return o.perturb_func()(copies, g);
    return at::empty(copies.sizes(), copies.options()).uniform_(-radius, radius, g);
  });
  const at::Tensor original = explain(x, targets).to(at::kDouble).flatten(1);  // [B, D]
  at::Tensor norm = original.norm(2, 1);
  norm = at::where(norm.eq(0), at::ones_like(norm), norm);
  const at::Tensor row_targets = targets.repeat_interleave(n);
  std::vector<at::Tensor> distances;
  // The method runs on whole samples' perturbations, at most per_eval inputs at a time.
  const int64_t chunk = rows_per_pass(per_eval, x);
  for (int64_t begin = 0; begin < B * n; begin += chunk) {
    const int64_t end = std::min(B * n, begin + chunk);
    const at::Tensor rows = at::arange(begin, end, targets.options());
    const at::Tensor sample = rows.div(n, "floor");
    const at::Tensor perturbed = explain(x.index_select(0, sample) + I.slice(0, begin, end), row_targets.slice(0, begin, end));
    const at::Tensor diff = perturbed.to(at::kDouble).flatten(1) - original.index_select(0, sample.to(original.device()));
    distances.push_back(diff.norm(2, 1) / norm.index_select(0, sample.to(norm.device())));
  }
  return std::get<0>(at::cat(distances).view({B, n}).max(1)).to(at::kCPU);
}

class SensitivityMetric final : public Metric {
 public:
  const char* name() const override { return "sensitivity"; }
  const char* help() const override {
    return "Captum's sensitivity_max: the largest relative change of the attribution under uniform noise of radius perturb_radius (lower is better)";
  }
  int better() const override { return -1; }
  bool reexplains() const override { return true; }
  MetricResult evaluate(const MetricRequest& r) const override {
    const ExplainFunction explain = method_explainer(r, "sensitivity", "explains the perturbed inputs again");
    return {sensitivity_impl(explain, r.x, r.targets, r.options.sensitivity(), r.options.perturbations_per_eval(), r.first_sample),
            {}, {}, {}, {}};
  }
};

}  // namespace

at::Tensor sensitivity_max(const ExplainFunction& explain, const at::Tensor& x, const at::Tensor& targets,
                           const SensitivityOptions& options, int64_t perturbations_per_eval) {
  return sensitivity_impl(explain, x, targets, options, perturbations_per_eval, 0);
}

const Metric& sensitivity_metric() {
  static const SensitivityMetric metric;
  return metric;
}

}  // namespace glassbox::evaluate
