// Guided Backprop (Springenberg et al. 2015; Captum's GuidedBackprop): the gradient, with every ReLU
// passing back only the positive part of the gradient, and only where its input was positive.
#include "glassbox/explain/methods.h"
#include "glassbox/explain/modified-backward.h"
#include "rule-gradient.h"

namespace glassbox::explain {

at::Tensor guided_backprop(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets, Score score) {
  check_batch(model, x, targets);
  models::EvalModeGuard eval(model);
  return rule_gradient(model, x, targets, score,
                       models::BackwardRules().method("guided_backprop").activation(models::ActivationRule::guided))
      .gradients;
}

namespace {

class GuidedBackpropMethod final : public AttributionMethod {
 public:
  const char* name() const override { return "guided_backprop"; }
  const char* help() const override {
    return "Guided Backprop: the gradient through ReLUs that pass back positive gradient only (Captum's GuidedBackprop)";
  }
  std::vector<std::string> options() const override { return {"score"}; }
  at::Tensor attribute(const AttributionRequest& r) const override {
    return guided_backprop(r.model, r.x, r.targets, r.options.score());
  }
};

}  // namespace

const AttributionMethod& guided_backprop_method() {
  static const GuidedBackpropMethod method;
  return method;
}

}  // namespace glassbox::explain
