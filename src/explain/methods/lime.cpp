// LIME (Ribeiro et al. 2016, "Why should I trust you?") as the lime package's image explainer runs it:
// n_samples binary vectors over the features, the first all ones (the input itself) and the rest each
// feature kept with probability 1/2; each weighted by how close it is to the input, sqrt(exp(-d^2 / w^2))
// with d the cosine distance between the vector and all-ones; and a ridge regression with intercept fit
// to the target scores of the perturbed inputs. The fit is a few (F + 1)-square solves on the model's
// device, in double precision.
#include <ATen/CPUGeneratorImpl.h>

#include <cmath>

#include "feature-masks.h"

namespace glassbox::explain {

at::Tensor weighted_ridge(const at::Tensor& design, const at::Tensor& responses, const at::Tensor& weights, double alpha) {
  GLASSBOX_CHECK_PARAM(std::isfinite(alpha) && alpha >= 0, "lime_alpha", alpha, "expected a finite number >= 0");
  const at::Tensor X = design.to(at::kDouble), Y = responses.to(at::kDouble), w = weights.to(at::kDouble).unsqueeze(1);
  const int64_t F = X.size(1);
  // The intercept is not penalised: centre on the weighted means and fit the rest (as scikit-learn's Ridge).
  const at::Tensor share = w / w.sum();
  const at::Tensor Xc = X - (share * X).sum(0, true), Yc = Y - (share * Y).sum(0, true);
  at::Tensor normal = Xc.t().matmul(w * Xc);
  // Without a penalty, features that never change (or change together) leave it singular: a tiny one.
  const double ridge = alpha > 0 ? alpha : 1e-10 * std::max(1e-300, normal.diagonal().mean().item<double>());
  normal += ridge * at::eye(F, normal.options());
  return at::linalg_solve(normal, Xc.t().matmul(w * Yc));  // [F, B]
}

at::Tensor lime(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets, const PerturbationOptions& o,
                Score score) {
  check_batch(model, x, targets);
  GLASSBOX_CHECK_PARAM(o.n_samples() >= 1 && o.n_samples() <= 100000, "n_samples", o.n_samples(), "expected 1..100000");
  GLASSBOX_CHECK_PARAM(std::isfinite(o.lime_alpha()) && o.lime_alpha() >= 0, "lime_alpha", o.lime_alpha(),
                       "expected a finite number >= 0");
  GLASSBOX_CHECK_PARAM(std::isfinite(o.lime_kernel_width()) && o.lime_kernel_width() > 0, "lime_kernel_width",
                       o.lime_kernel_width(), "expected a finite number > 0");
  models::EvalModeGuard eval(model);
  return per_mask(x, targets, feature_mask(x, o), [&](const at::Tensor& xs, const at::Tensor& ts, const FeatureMask& mask) {
    const int64_t F = mask.count(), S = o.n_samples();
    at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(o.seed());
    const auto cpu = at::TensorOptions().dtype(at::kDouble);
    at::Tensor z = at::randint(2, {S, F}, gen, cpu);
    z[0].fill_(1);
    // Cosine distance to all-ones: 1 - k / (sqrt(k) sqrt(F)) for k kept features; 1 for none kept.
    const at::Tensor kept = z.sum(1);
    const at::Tensor cosine = at::where(kept > 0, kept.sqrt() / std::sqrt(double(F)), at::zeros_like(kept));
    const at::Tensor d = 1 - cosine;
    const double width = o.lime_kernel_width();
    const at::Tensor weights = at::exp(-d * d / (width * width)).sqrt();
    const at::Tensor y = perturbed_scores(model, xs, ts, z, mask, o.baseline(), o.perturbations_per_eval(), score);  // [B, S]
    const at::Tensor beta = weighted_ridge(z.to(xs.device()), y.t(), weights.to(xs.device()), o.lime_alpha());  // [F, B]
    return feature_map(beta.t().to(xs.scalar_type()), mask, xs);
  });
}

namespace {

class LimeMethod final : public AttributionMethod {
 public:
  const char* name() const override { return "lime"; }
  const char* help() const override {
    return "LIME over features (grid cells, superpixels): a proximity-weighted ridge fit to n_samples random subsets "
           "(the lime package's image explainer)";
  }
  std::vector<std::string> options() const override {
    return {"score", "perturbation.feature_mask", "perturbation.feature_size", "perturbation.slic", "perturbation.baseline",
            "perturbation.n_samples", "perturbation.lime_alpha", "perturbation.lime_kernel_width",
            "perturbation.perturbations_per_eval", "perturbation.seed"};
  }
  at::Tensor attribute(const AttributionRequest& r) const override {
    return lime(r.model, r.x, r.targets, r.options.perturbation(), r.options.score());
  }
};

}  // namespace

const AttributionMethod& lime_method() {
  static const LimeMethod method;
  return method;
}

}  // namespace glassbox::explain
