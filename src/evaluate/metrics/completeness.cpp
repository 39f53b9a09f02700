// Completeness (Sundararajan et al. 2017): attributions should add up to the score's change from the
// baseline, f(x) - f(0). Integrated gradients satisfies it up to its integration error (its convergence
// delta); for the other methods it measures how far they are from being a decomposition of the score.
#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include "../perturbation.h"
#include "glassbox/evaluate/faithfulness.h"
#include "glassbox/evaluate/metrics.h"

namespace glassbox::evaluate {

at::Tensor completeness(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets,
                        const at::Tensor& attributions, explain::Score score) {
  check_metric_inputs(model, x, targets, attributions, "completeness");
  models::EvalModeGuard eval(model);
  torch::autograd::AutoGradMode no_grad(false);
  const at::Tensor change = explain::target_scores(model.forward(x).to(at::kFloat), targets, score) -
                            explain::target_scores(model.forward(at::zeros_like(x)).to(at::kFloat), targets, score);
  // A one-channel map stands for every channel: it is summed once per input channel.
  const double channels = attributions.size(1) == 1 ? static_cast<double>(x.size(1)) : 1.0;
  const at::Tensor total = attributions.to(at::kDouble).flatten(1).sum(1) * channels;
  return (total - change.to(at::kDouble).to(total.device())).abs().to(at::kCPU);
}

namespace {

class CompletenessMetric final : public Metric {
 public:
  const char* name() const override { return "completeness"; }
  const char* help() const override {
    return "completeness: |sum(attribution) - (f(x) - f(0))|, IG's convergence delta for ig (lower is better)";
  }
  int better() const override { return -1; }
  MetricResult evaluate(const MetricRequest& r) const override {
    return {completeness(r.model, r.x, r.targets, r.attributions, r.options.score()), {}, {}, {}, ""};
  }
};

}  // namespace

const Metric& completeness_metric() {
  static const CompletenessMetric metric;
  return metric;
}

}  // namespace glassbox::evaluate
