// Shapley value sampling (Castro et al.; Captum's ShapleyValueSampling): for each random order of the
// features, start from the baseline and add them one by one; a feature's value is the mean change of the
// target score when it is added. All n_samples * (F + 1) coalitions run in batched passes.
#include <ATen/CPUGeneratorImpl.h>

#include "feature-masks.h"

namespace glassbox::explain {

at::Tensor shapley_value_sampling(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets,
                                  const PerturbationOptions& o, Score score) {
  check_batch(model, x, targets);
  GLASSBOX_CHECK(o.n_samples() >= 1 && o.n_samples() <= 100000, "n_samples ", o.n_samples(), ": expected 1..100000");
  models::EvalModeGuard eval(model);
  const FeatureMask mask = feature_mask(x, o);
  const int64_t F = mask.count(), S = o.n_samples();
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(o.seed());
  const auto cpu = at::TensorOptions().dtype(at::kLong);
  std::vector<at::Tensor> orders;
  for (int64_t s = 0; s < S; ++s) orders.push_back(at::randperm(F, gen, cpu));
  const at::Tensor order = at::stack(orders);  // [S, F]
  // Coalition k of order s holds its first k features: [S, F + 1, F].
  const at::Tensor rank = at::empty_like(order).scatter_(1, order, at::arange(F, cpu).expand({S, F}));  // position of each feature
  const at::Tensor k = at::arange(F + 1, cpu).view({1, F + 1, 1});
  const at::Tensor keep = (rank.unsqueeze(1) < k).to(x.options()).view({S * (F + 1), F});
  const at::Tensor scores = perturbed_scores(model, x, targets, keep, mask, o.baseline(), o.perturbations_per_eval(), score)
                                .view({x.size(0), S, F + 1});
  const at::Tensor gains = scores.narrow(2, 1, F) - scores.narrow(2, 0, F);  // [B, S, F]: the k-th added feature's gain
  // Back from positions in the order to features: feature f was added at position rank[s, f].
  const at::Tensor values = gains.gather(2, rank.to(x.device()).unsqueeze(0).expand({x.size(0), S, F})).mean(1);
  return feature_map(values, mask, x);
}

namespace {

class ShapleySamplingMethod final : public AttributionMethod {
 public:
  const char* name() const override { return "shapley_sampling"; }
  const char* help() const override {
    return "Shapley value sampling over features (grid cells, superpixels), n_samples random orders (Captum's ShapleyValueSampling)";
  }
  std::vector<std::string> options() const override {
    return {"score", "perturbation.feature_mask", "perturbation.feature_size", "perturbation.slic", "perturbation.baseline", "perturbation.n_samples",
            "perturbation.perturbations_per_eval", "perturbation.seed"};
  }
  at::Tensor attribute(const AttributionRequest& r) const override {
    return shapley_value_sampling(r.model, r.x, r.targets, r.options.perturbation(), r.options.score());
  }
};

}  // namespace

const AttributionMethod& shapley_sampling_method() {
  static const ShapleySamplingMethod method;
  return method;
}

}  // namespace glassbox::explain
