// Feature ablation (Captum's FeatureAblation): one perturbed copy per feature, that feature alone at the
// baseline; its value is the target score's drop.
#include "feature-masks.h"
#include "glassbox/explain/perturbation-methods.h"

namespace glassbox::explain {

at::Tensor feature_ablation(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets,
                            const PerturbationOptions& o, Score score) {
  check_batch(model, x, targets);
  models::EvalModeGuard eval(model);
  const FeatureGrid grid = feature_grid(x, o.feature_size());
  const int64_t F = grid.count();
  const at::Tensor keep = 1 - at::eye(F, x.options());  // copy f: every feature but f
  const at::Tensor all = at::ones({1, F}, x.options());
  const at::Tensor scores = perturbed_scores(model, x, targets, at::cat({all, keep}), grid, o.baseline(),
                                             o.perturbations_per_eval(), score);
  return feature_map(scores.narrow(1, 0, 1) - scores.narrow(1, 1, F), grid, x);
}

namespace {

class FeatureAblationMethod final : public AttributionMethod {
 public:
  const char* name() const override { return "feature_ablation"; }
  const char* help() const override {
    return "Feature ablation: the score's drop when one grid cell takes the baseline (Captum's FeatureAblation)";
  }
  std::vector<std::string> options() const override {
    return {"score", "perturbation.feature_size", "perturbation.baseline", "perturbation.perturbations_per_eval"};
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
