// KernelSHAP (Lundberg and Lee 2017; Captum's KernelShap): coalitions of features, their sizes drawn
// with the Shapley kernel's probabilities (F - 1) / (k (F - k)) and their members uniformly, so that each
// sampled row has weight 1; the empty and the full coalition are added with a large weight, which makes
// the values add up to F(x) - F(baseline). A weighted linear model with intercept is fit by least squares
// on the model's device (weighted_ridge without a penalty: normal equations in double precision, with a
// tiny ridge for fewer rows than cells).
#include <ATen/CPUGeneratorImpl.h>

#include "feature-masks.h"

namespace glassbox::explain {

at::Tensor kernel_shap(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets, const PerturbationOptions& o,
                       Score score) {
  check_batch(model, x, targets);
  GLASSBOX_CHECK_PARAM(o.n_samples() >= 1 && o.n_samples() <= 100000, "n_samples", o.n_samples(), "expected 1..100000");
  models::EvalModeGuard eval(model);
  return per_mask(x, targets, feature_mask(x, o), [&](const at::Tensor& xs, const at::Tensor& ts, const FeatureMask& mask) {
    const int64_t F = mask.count(), S = o.n_samples();
    GLASSBOX_CHECK(F >= 2, "kernel_shap: the feature mask (", feature_mask_kind_name(o.feature_mask()), ") leaves ", F,
                   " feature, it needs at least 2");
    at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(o.seed());
    const auto cpu = at::TensorOptions().dtype(at::kDouble);
    const at::Tensor sizes = at::arange(1, F, cpu);
    const at::Tensor kernel = double(F - 1) / (sizes * (double(F) - sizes));
    const at::Tensor drawn = at::multinomial(kernel, S, /*replacement=*/true, gen) + 1;  // coalition sizes
    at::Tensor z = at::zeros({S + 2, F}, cpu);
    z[S + 1].fill_(1);  // row S: empty, row S + 1: full
    const auto size = drawn.accessor<int64_t, 1>();
    for (int64_t s = 0; s < S; ++s) z[s].index_fill_(0, at::randperm(F, gen, at::kLong).narrow(0, 0, size[s]), 1);
    const at::Tensor weights = at::cat({at::ones({S}, cpu), at::full({2}, 1e6, cpu)}).to(xs.device());
    const at::Tensor y = perturbed_scores(model, xs, ts, z.to(xs.options()), mask, o.baseline(), o.perturbations_per_eval(), score)
                             .to(at::kDouble);  // [B, S + 2]
    // LIME's weighted least squares with an unpenalised intercept, without a penalty.
    const at::Tensor beta = weighted_ridge(z.to(xs.device()), y.t(), weights, 0);  // [F, B]
    return feature_map(beta.t().to(xs.scalar_type()), mask, xs);
  });
}

namespace {

class KernelShapMethod final : public AttributionMethod {
 public:
  const char* name() const override { return "kernel_shap"; }
  const char* help() const override {
    return "KernelSHAP over features (grid cells, superpixels): a weighted linear fit to n_samples coalitions (Captum's KernelShap)";
  }
  std::vector<std::string> options() const override {
    return {"score", "perturbation.feature_mask", "perturbation.feature_size", "perturbation.slic", "perturbation.baseline", "perturbation.n_samples",
            "perturbation.perturbations_per_eval", "perturbation.seed"};
  }
  at::Tensor attribute(const AttributionRequest& r) const override {
    return kernel_shap(r.model, r.x, r.targets, r.options.perturbation(), r.options.score());
  }
};

}  // namespace

const AttributionMethod& kernel_shap_method() {
  static const KernelShapMethod method;
  return method;
}

}  // namespace glassbox::explain
