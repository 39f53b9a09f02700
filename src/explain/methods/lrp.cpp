// Layer-wise Relevance Propagation (Bach et al. 2015; the rules as Montavon et al. 2019 give them, the
// composites as Zennit names them): the target logit is the relevance of the output; each linear and
// convolution layer passes it back by its rule (models/backward-rules.h), activations pass it through,
// residual sums split it in proportion to their terms, batch norms are merged into the layer before them.
#include <ATen/ATen.h>

#include "glassbox/explain/methods.h"
#include "glassbox/explain/modified-backward.h"
#include "glassbox/util/enum-names.h"
#include "rule-gradient.h"

namespace glassbox::explain {
namespace {
const char* const kCompositeNames[] = {"epsilon", "gamma", "zplus", "epsilon_plus", "epsilon_gamma_box",
                                       "epsilon_plus_box"};  // LrpComposite's order
}  // namespace

LrpComposite parse_lrp_composite(const std::string& name) {
  return enum_from_name<LrpComposite>(kCompositeNames, name, "composite");
}
std::vector<std::string> lrp_composite_names() { return enum_names(kCompositeNames); }
const char* lrp_composite_name(LrpComposite composite) { return enum_name(kCompositeNames, composite); }

models::BackwardRules lrp_rules(const LrpOptions& o) {
  using models::LayerRule;
  GLASSBOX_CHECK(std::isfinite(o.epsilon()) && o.epsilon() > 0, "epsilon: ", o.epsilon(), ", expected a finite number > 0");
  GLASSBOX_CHECK(std::isfinite(o.gamma()) && o.gamma() >= 0, "gamma: ", o.gamma(), ", expected a finite number >= 0");
  models::BackwardRules r;
  r.method("lrp").activation(models::ActivationRule::pass).relevance(true).epsilon(o.epsilon()).gamma(o.gamma());
  r.low(o.low()).high(o.high());
  switch (o.composite()) {
    case LrpComposite::epsilon: r.convolutions(LayerRule::epsilon).dense(LayerRule::epsilon); break;
    case LrpComposite::gamma: r.convolutions(LayerRule::gamma).dense(LayerRule::gamma); break;
    case LrpComposite::zplus: r.convolutions(LayerRule::zplus).dense(LayerRule::zplus); break;
    case LrpComposite::epsilon_plus: r.convolutions(LayerRule::zplus).dense(LayerRule::epsilon); break;
    case LrpComposite::epsilon_gamma_box:
      r.convolutions(LayerRule::gamma).dense(LayerRule::epsilon).first_layer(LayerRule::zbox);
      break;
    case LrpComposite::epsilon_plus_box:
      r.convolutions(LayerRule::zplus).dense(LayerRule::epsilon).first_layer(LayerRule::zbox);
      break;
  }
  return r;
}

LrpResult lrp(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets, const LrpOptions& options) {
  check_batch(model, x, targets);
  const models::BackwardRules rules = lrp_rules(options);
  models::EvalModeGuard eval(model);
  const RuleGradient g = rule_gradient(model, x, targets, Score::logit, rules, /*seed_with_scores=*/true);
  return {g.gradients, g.scores};
}

namespace {

class LrpMethod final : public AttributionMethod {
 public:
  const char* name() const override { return "lrp"; }
  const char* help() const override {
    return "LRP: the target logit's relevance propagated back by a composite of rules (Zennit's composites)";
  }
  std::vector<std::string> options() const override {
    return {"lrp.composite", "lrp.epsilon", "lrp.gamma", "lrp.low", "lrp.high"};
  }
  at::Tensor attribute(const AttributionRequest& r) const override {
    GLASSBOX_CHECK(r.options.score() == Score::logit, "score '", score_names()[static_cast<size_t>(r.options.score())],
                   "': lrp starts from the target's logit (score logit)");
    return lrp(r.model, r.x, r.targets, r.options.lrp()).relevance;
  }
};

}  // namespace

const AttributionMethod& lrp_method() {
  static const LrpMethod method;
  return method;
}

}  // namespace glassbox::explain
