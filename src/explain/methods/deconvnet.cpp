// Deconvnet (Zeiler and Fergus 2014; Captum's Deconvolution): the gradient, with every ReLU passing back
// the positive part of the gradient whatever its input was.
#include "glassbox/explain/methods.h"
#include "glassbox/explain/modified-backward.h"
#include "rule-gradient.h"

namespace glassbox::explain {

at::Tensor deconvnet(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets, Score score) {
  check_batch(model, x, targets);
  models::EvalModeGuard eval(model);
  return rule_gradient(model, x, targets, score,
                       models::BackwardRules().method("deconvnet").activation(models::ActivationRule::deconvnet))
      .gradients;
}

namespace {

class DeconvnetMethod final : public AttributionMethod {
 public:
  const char* name() const override { return "deconvnet"; }
  const char* help() const override {
    return "Deconvnet: the gradient through ReLUs that pass back its positive part (Captum's Deconvolution)";
  }
  std::vector<std::string> options() const override { return {"score"}; }
  at::Tensor attribute(const AttributionRequest& r) const override { return deconvnet(r.model, r.x, r.targets, r.options.score()); }
};

}  // namespace

const AttributionMethod& deconvnet_method() {
  static const DeconvnetMethod method;
  return method;
}

}  // namespace glassbox::explain
