// DeepLift with the Rescale rule (Shrikumar et al. 2017; Captum's DeepLift): the input and its reference
// run as one batch [x; x0], each activation's backward multiplies by (f(x) - f(x0)) / (x - x0) (its
// derivative where the two are equal) and max pools route their output differences (Captum's rule); the
// input's multipliers times x - x0 are the contributions, which sum to F(x) - F(x0).
#include <ATen/ATen.h>

#include "baselines.h"
#include "glassbox/explain/methods.h"
#include "glassbox/explain/modified-backward.h"
#include "rule-gradient.h"

namespace glassbox::explain {

DeepLiftResult deeplift(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets, const at::Tensor& baselines,
                        Score score) {
  check_batch(model, x, targets);
  models::EvalModeGuard eval(model);
  const int64_t B = x.size(0);
  const at::Tensor base = broadcast_baseline(baselines, x);
  const RuleGradient g = rule_gradient(
      model, at::cat({x, base}, 0), at::cat({targets, targets}, 0), score,
      models::BackwardRules().method("deeplift").activation(models::ActivationRule::rescale).rescale_max_pool(true));
  DeepLiftResult r;
  r.attributions = (x - base) * g.gradients.narrow(0, 0, B);
  r.delta = r.attributions.flatten(1).sum(1) - (g.scores.narrow(0, 0, B) - g.scores.narrow(0, B, B));
  return r;
}

namespace {

class DeepLiftMethod final : public AttributionMethod {
 public:
  const char* name() const override { return "deeplift"; }
  const char* help() const override {
    return "DeepLift: Rescale multipliers against a constant reference, times x - reference (Captum's DeepLift)";
  }
  std::vector<std::string> options() const override { return {"score", "deeplift.baseline"}; }
  at::Tensor attribute(const AttributionRequest& r) const override {
    const at::Tensor base = at::full({1, r.x.size(1), r.x.size(2), r.x.size(3)}, r.options.deeplift().baseline(), r.x.options());
    return deeplift(r.model, r.x, r.targets, base, r.options.score()).attributions;
  }
};

}  // namespace

const AttributionMethod& deeplift_method() {
  static const DeepLiftMethod method;
  return method;
}

}  // namespace glassbox::explain
