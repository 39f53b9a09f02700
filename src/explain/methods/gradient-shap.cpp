// GradientShap (Lundberg and Lee 2017; Captum's GradientShap): expected gradients. Each of n_samples
// points per input lies at a uniform fraction of the way from a reference drawn from the distribution
// to the (noised) input; its gradient times input - reference, averaged. All points run in batched passes.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include "glassbox/explain/methods.h"
#include "glassbox/explain/modified-backward.h"
#include "glassbox/util/error.h"

namespace glassbox::explain {

at::Tensor gradient_shap(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets, const at::Tensor& baselines,
                         const DeepLiftOptions& o, Score score) {
  check_batch(model, x, targets);
  GLASSBOX_CHECK(o.n_samples() >= 1 && o.n_samples() <= 10000, "n_samples: ", o.n_samples(), ", expected 1..10000");
  GLASSBOX_CHECK(std::isfinite(o.stdevs()) && o.stdevs() >= 0, "stdevs: ", o.stdevs(), ", expected a finite number >= 0");
  const at::Tensor all_refs = per_sample_baselines(baselines, x);  // [B, K, C, H, W]
  models::EvalModeGuard eval(model);
  const int64_t B = x.size(0), N = o.n_samples(), K = all_refs.size(1);
  // Drawn per sample's shape (as SmoothGrad's noise), so a sample's result does not depend on its batch.
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(o.seed());
  const auto cpu = x.options().device(at::kCPU);
  const at::Tensor noise = at::randn({N, x.size(1), x.size(2), x.size(3)}, gen, cpu).mul_(o.stdevs()).to(x.device());
  const at::Tensor pick = at::randint(K, {N}, gen, cpu.dtype(at::kLong)).to(x.device());
  const at::Tensor alpha = at::rand({N, 1, 1, 1}, gen, cpu).to(x.device());
  at::Tensor total = at::zeros_like(x);
  // Rows per pass: whole samples' points, about 64 rows.
  const int64_t per_pass = std::max<int64_t>(1, 64 / N);
  for (int64_t b0 = 0; b0 < B; b0 += per_pass) {
    const int64_t nb = std::min(per_pass, B - b0);
    const at::Tensor inputs = x.narrow(0, b0, nb).unsqueeze(1) + noise.unsqueeze(0);  // [nb, N, C, H, W]
    const at::Tensor refs = all_refs.narrow(0, b0, nb).index_select(1, pick);  // [nb, N, C, H, W]
    const at::Tensor diff = inputs - refs;
    const at::Tensor points = (refs + alpha.unsqueeze(0) * diff).flatten(0, 1);
    const at::Tensor grads = input_gradients_unchecked(model, points, targets.narrow(0, b0, nb).repeat_interleave(N, 0), score);
    total.narrow(0, b0, nb).copy_((grads.view_as(diff) * diff).mean(1));
  }
  return total;
}

namespace {

class GradientShapMethod final : public AttributionMethod {
 public:
  const char* name() const override { return "gradient_shap"; }
  const char* help() const override {
    return "GradientShap: gradients at random points between references and the input, times the difference (Captum's GradientShap)";
  }
  std::vector<std::string> options() const override {
    return {"score", "deeplift.n_baselines", "deeplift.seed", "deeplift.n_samples", "deeplift.stdevs"};
  }
  at::Tensor attribute(const AttributionRequest& r) const override {
    const auto& o = r.options.deeplift();
    return gradient_shap(r.model, r.x, r.targets, random_baselines(r.x, o.n_baselines(), o.seed()), o, r.options.score());
  }
};

}  // namespace

const AttributionMethod& gradient_shap_method() {
  static const GradientShapMethod method;
  return method;
}

}  // namespace glassbox::explain
