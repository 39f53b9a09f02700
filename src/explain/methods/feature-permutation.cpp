// Feature permutation (Captum's FeaturePermutation; permutation importance, Breiman 2001, per sample):
// for each feature, the batch's samples exchange that feature's values by a random permutation of the
// batch that moves at least one sample; a sample's value for the feature is its score's drop. The
// result depends on the batch by definition: it asks how much each sample needs its own values there
// rather than another sample's.
#include <ATen/CPUGeneratorImpl.h>

#include "feature-masks.h"

namespace glassbox::explain {

at::Tensor feature_permutation(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets,
                               const PerturbationOptions& o, Score score) {
  check_batch(model, x, targets);
  const int64_t B = x.size(0), H = x.size(2), W = x.size(3);
  GLASSBOX_CHECK(B >= 2, "feature_permutation: needs a batch of at least 2 samples to exchange features between, got ", B);
  const FeatureMask mask = feature_mask(x, o);
  if (!mask.shared())
    throw Error::about("feature_mask", feature_mask_kind_name(o.feature_mask()),
                       "feature_permutation exchanges the same feature between samples, which needs one mask for all (grid)");
  models::EvalModeGuard eval(model);
  const int64_t F = mask.count();
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(o.seed());
  const auto longs = at::TensorOptions().dtype(at::kLong);
  const at::Tensor identity = at::arange(B, longs);
  std::vector<at::Tensor> perms;
  for (int64_t f = 0; f < F; ++f) {
    at::Tensor p = at::randperm(B, gen, longs);
    while (p.equal(identity)) p = at::randperm(B, gen, longs);
    perms.push_back(p);
  }
  const at::Tensor perm = at::stack(perms).to(x.device());  // [F, B]
  const at::Tensor pixel_feature = mask.pixel_feature.view({1, H * W});
  const at::Tensor permuted = batched_scores(model, targets, F, o.perturbations_per_eval(), score, [&](int64_t p0, int64_t k) {
    const at::Tensor features = at::arange(p0, p0 + k, pixel_feature.options()).view({k, 1});
    const at::Tensor m = pixel_feature.eq(features).to(x.scalar_type()).view({k, 1, 1, H, W});
    const at::Tensor others = x.index_select(0, perm.narrow(0, p0, k).flatten()).view({k, B, x.size(1), H, W});
    return x.unsqueeze(0) * (1 - m) + others * m;
  });  // [B, F]
  at::Tensor original;
  {
    torch::autograd::AutoGradMode no_grad(false);
    original = target_scores(model.forward(x), targets, score);
  }
  return feature_map(original.unsqueeze(1) - permuted, mask, x);
}

namespace {

class FeaturePermutationMethod final : public AttributionMethod {
 public:
  const char* name() const override { return "feature_permutation"; }
  const char* help() const override {
    return "Feature permutation: the score's drop when a grid cell's values are exchanged between the batch's samples "
           "(Captum's FeaturePermutation; needs a batch of 2 or more)";
  }
  std::vector<std::string> options() const override {
    return {"score", "perturbation.feature_size", "perturbation.perturbations_per_eval", "perturbation.seed"};
  }
  bool reads_batch() const override { return true; }
  at::Tensor attribute(const AttributionRequest& r) const override {
    return feature_permutation(r.model, r.x, r.targets, r.options.perturbation(), r.options.score());
  }
};

}  // namespace

const AttributionMethod& feature_permutation_method() {
  static const FeaturePermutationMethod method;
  return method;
}

}  // namespace glassbox::explain
