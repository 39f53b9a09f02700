// Feature ablation (Captum's FeatureAblation): one perturbed copy per feature, that feature alone at the
// baseline; its value is the target score's drop.
#include "feature-masks.h"

namespace glassbox::explain {

at::Tensor feature_ablation(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets,
                            const PerturbationOptions& o, Score score) {
  check_batch(model, x, targets);
  models::EvalModeGuard eval(model);
  const FeatureMask mask = feature_mask(x, o);
  const int64_t F = mask.count();
  const at::Tensor keep = 1 - at::eye(F, x.options());  // copy f: every feature but f
  const at::Tensor all = at::ones({1, F}, x.options());
  const at::Tensor scores = perturbed_scores(model, x, targets, at::cat({all, keep}), mask, o.baseline(),
                                             o.perturbations_per_eval(), score);
  return feature_map(scores.narrow(1, 0, 1) - scores.narrow(1, 1, F), mask, x);
}

namespace {

class FeatureAblationMethod final : public AttributionMethod {
 public:
  const char* name() const override { return "feature_ablation"; }
  const char* help() const override {
    return "Feature ablation: the score's drop when one feature (grid cell, superpixel) takes the baseline (Captum's FeatureAblation)";
  }
  std::vector<std::string> options() const override {
    return {"score", "perturbation.feature_mask", "perturbation.feature_size", "perturbation.slic", "perturbation.baseline", "perturbation.perturbations_per_eval"};
  }
  at::Tensor attribute(const AttributionRequest& r) const override {
    return feature_ablation(r.model, r.x, r.targets, r.options.perturbation(), r.options.score());
  }
};

}  // namespace

const AttributionMethod& feature_ablation_method() {
  static const FeatureAblationMethod method;
  return method;
}

}  // namespace glassbox::explain
