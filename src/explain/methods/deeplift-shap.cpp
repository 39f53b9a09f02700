// DeepLiftShap (Lundberg and Lee 2017; Captum's DeepLiftShap): DeepLift against each reference of a
// distribution, averaged: an approximation of SHAP values with the references as the background data.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include "glassbox/explain/methods.h"
#include "glassbox/explain/modified-backward.h"
#include "glassbox/util/error.h"

namespace glassbox::explain {

at::Tensor random_baselines(const at::Tensor& x, int64_t n_baselines, uint64_t seed) {
  GLASSBOX_CHECK(n_baselines >= 1 && n_baselines <= 1024, "n_baselines: ", n_baselines, ", expected 1..1024");
  GLASSBOX_CHECK(x.dim() == 4, "input: expected a batch [B, C, H, W], got ", x.sizes());
  const at::Tensor lo = x.detach().amin({2, 3}, true).unsqueeze(1), hi = x.detach().amax({2, 3}, true).unsqueeze(1);
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  const at::Tensor u = at::rand({n_baselines, x.size(1), x.size(2), x.size(3)}, gen, x.options().device(at::kCPU)).to(x.device());
  return lo + u.unsqueeze(0) * (hi - lo);  // [B, K, C, H, W]
}

at::Tensor per_sample_baselines(const at::Tensor& baselines, const at::Tensor& x) {
  const bool shared = baselines.defined() && baselines.dim() == 4;
  const bool each = baselines.defined() && baselines.dim() == 5 && baselines.size(0) == x.size(0);
  const int64_t d = shared ? 0 : 1;
  GLASSBOX_CHECK((shared || each) && baselines.size(d) >= 1 && baselines.size(d + 1) == x.size(1) &&
                     baselines.size(d + 2) == x.size(2) && baselines.size(d + 3) == x.size(3),
                 "baselines: ", baselines.defined() ? baselines.sizes() : at::IntArrayRef{}, ", expected [K, ", x.size(1),
                 ", ", x.size(2), ", ", x.size(3), "] or one set per sample [", x.size(0), ", K, ...] with K >= 1");
  const at::Tensor b = baselines.to(x.device(), x.scalar_type());
  return shared ? b.unsqueeze(0).expand({x.size(0), -1, -1, -1, -1}) : b;
}

DeepLiftResult deeplift_shap(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets,
                             const at::Tensor& baselines, Score score) {
  check_batch(model, x, targets);
  const at::Tensor refs = per_sample_baselines(baselines, x);
  const int64_t B = x.size(0), K = refs.size(1);
  // Every (sample, reference) pair as one row: sample i's rows are i*K .. i*K + K - 1.
  const DeepLiftResult each = deeplift(model, x.repeat_interleave(K, 0), targets.repeat_interleave(K, 0),
                                       refs.reshape({B * K, x.size(1), x.size(2), x.size(3)}), score);
  DeepLiftResult r;
  r.attributions = each.attributions.view({B, K, x.size(1), x.size(2), x.size(3)}).mean(1);
  r.delta = each.delta.view({B, K}).mean(1);
  return r;
}

namespace {

class DeepLiftShapMethod final : public AttributionMethod {
 public:
  const char* name() const override { return "deeplift_shap"; }
  const char* help() const override {
    return "DeepLiftShap: DeepLift averaged over random references within each sample's channel ranges (Captum's DeepLiftShap)";
  }
  std::vector<std::string> options() const override { return {"score", "deeplift.n_baselines", "deeplift.seed"}; }
  at::Tensor attribute(const AttributionRequest& r) const override {
    const auto& o = r.options.deeplift();
    return deeplift_shap(r.model, r.x, r.targets, random_baselines(r.x, o.n_baselines(), o.seed()), r.options.score())
        .attributions;
  }
};

}  // namespace

const AttributionMethod& deeplift_shap_method() {
  static const DeepLiftShapMethod method;
  return method;
}

}  // namespace glassbox::explain
