// Deletion and insertion (Petsiuk et al. 2018, RISE): the target's probability as pixels are removed,
// most relevant first, or revealed over a substitute. Every sample's curve is built on the device: the
// pixel order once per sample, each step's input a mask of that order, all steps of all samples through
// the model in batches of perturbations_per_eval; nothing returns to the host before the curves.
#include <ATen/ATen.h>

#include <cmath>

#include "../perturbation.h"
#include "glassbox/evaluate/faithfulness.h"
#include "glassbox/evaluate/metrics.h"
#include "glassbox/util/error.h"

namespace glassbox::evaluate {

namespace {

// RISE's gkern(klen, nsig) as a depthwise convolution kernel [C, 1, k, k].
at::Tensor rise_kernel(int64_t klen, double nsig, int64_t channels, const at::Tensor& like) {
  std::vector<double> cdf(static_cast<size_t>(klen + 1)), taps(static_cast<size_t>(klen));
  for (int64_t i = 0; i <= klen; ++i) {
    const double z = -nsig + 2.0 * nsig * static_cast<double>(i) / static_cast<double>(klen);
    cdf[static_cast<size_t>(i)] = 0.5 * std::erfc(-z / std::sqrt(2.0));
  }
  for (int64_t i = 0; i < klen; ++i) taps[static_cast<size_t>(i)] = cdf[static_cast<size_t>(i + 1)] - cdf[static_cast<size_t>(i)];
  const at::Tensor t = at::tensor(taps, at::kDouble);
  const at::Tensor k2 = at::outer(t, t);
  return (k2 / k2.sum()).to(like.device(), like.scalar_type()).expand({channels, 1, klen, klen}).contiguous();
}

at::Tensor substitute_for(const at::Tensor& x, Substitute kind, const PixelFlippingOptions& o) {
  if (o.substitute().defined()) {
    at::Tensor s = o.substitute();
    if (s.dim() == 3) s = s.unsqueeze(0);
    GLASSBOX_CHECK_PARAM(s.dim() == 4 && (s.size(0) == 1 || s.size(0) == x.size(0)) && s.size(1) == x.size(1) &&
                             s.size(2) == x.size(2) && s.size(3) == x.size(3),
                         "substitute", o.substitute().sizes(), "expected [C, H, W], [1, C, H, W] or [B, C, H, W] of the input ",
                         x.sizes());
    GLASSBOX_CHECK_PARAM(at::isfinite(s).all().item<bool>(), "substitute", "non-finite values", "expected finite values");
    return s.to(x.device(), x.scalar_type()).expand_as(x);
  }
  switch (kind) {
    case Substitute::zeros: return at::zeros_like(x);
    case Substitute::mean: return x.mean({2, 3}, /*keepdim=*/true).expand_as(x);
    case Substitute::blur:
      return at::conv2d(x, rise_kernel(o.blur_kernel(), o.blur_nsig(), x.size(1), x), {}, 1,
                        o.blur_kernel() / 2, 1, x.size(1));
  }
  return {};
}

PerturbationCurve flipping_curve(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets,
                                 const at::Tensor& attributions, const PixelFlippingOptions& o, int64_t per_eval,
                                 bool insert) {
  const char* what = insert ? "insertion" : "deletion";
  check_metric_inputs(model, x, targets, attributions, what);
  GLASSBOX_CHECK_PARAM(o.steps() >= 1 && o.steps() <= 100000, "steps", o.steps(), "expected 1 to 100000");
  const int64_t B = x.size(0), H = x.size(2), W = x.size(3), N = H * W, S = o.steps();
  const at::Tensor ranks = pixel_ranks(pixel_relevance(attributions.to(x.device())));  // [B, N]
  const at::Tensor sub = substitute_for(x, insert ? o.insertion_substitute() : o.deletion_substitute(), o).contiguous();
  const at::Tensor row_targets = targets.repeat_interleave(S + 1);
  const at::TensorOptions longs = ranks.options();
  const at::Tensor scores = scores_in_batches(model, B * (S + 1), [&](int64_t begin, int64_t end) {
    const at::Tensor rows = at::arange(begin, end, longs);
    const at::Tensor sample = rows.div(S + 1, "floor"), step = rows.remainder(S + 1);
    const at::Tensor count = step.mul(N).div(S, "floor");  // pixels changed at this step
    const at::Tensor changed = ranks.index_select(0, sample).lt(count.unsqueeze(1)).view({end - begin, 1, H, W});
    const at::Tensor xs = x.index_select(0, sample), ss = sub.index_select(0, sample);
    return insert ? at::where(changed, xs, ss) : at::where(changed, ss, xs);
  }, row_targets, explain::Score::probability, per_eval, x);
  PerturbationCurve out;
  out.curve = scores.view({B, S + 1}).to(at::kCPU, at::kDouble);
  out.area = (out.curve.sum(1) - (out.curve.select(1, 0) + out.curve.select(1, S)) / 2) / static_cast<double>(S);
  return out;
}

class FlippingMetric final : public Metric {
 public:
  explicit FlippingMetric(bool insert) : insert_(insert) {}
  const char* name() const override { return insert_ ? "insertion" : "deletion"; }
  const char* help() const override {
    return insert_ ? "RISE's insertion: area under the target's probability as pixels are revealed over a blurred copy, most relevant first (higher is better)"
                   : "RISE's deletion: area under the target's probability as pixels are set to zero, most relevant first (lower is better)";
  }
  int better() const override { return insert_ ? 1 : -1; }
  MetricResult evaluate(const MetricRequest& r) const override {
    const PerturbationCurve c = flipping_curve(r.model, r.x, r.targets, r.attributions, r.options.pixel_flipping(),
                                               r.options.perturbations_per_eval(), insert_);
    std::vector<double> axis;
    const int64_t S = r.options.pixel_flipping().steps();
    for (int64_t k = 0; k <= S; ++k) axis.push_back(static_cast<double>(k) / static_cast<double>(S));
    return {c.area, {{name(), axis, c.curve}}, {}, {}};
  }

 private:
  bool insert_;
};

}  // namespace

PerturbationCurve deletion(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets,
                           const at::Tensor& attributions, const PixelFlippingOptions& options, int64_t per_eval) {
  return flipping_curve(model, x, targets, attributions, options, per_eval, false);
}

PerturbationCurve insertion(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets,
                            const at::Tensor& attributions, const PixelFlippingOptions& options, int64_t per_eval) {
  return flipping_curve(model, x, targets, attributions, options, per_eval, true);
}

const Metric& deletion_metric() {
  static const FlippingMetric metric(false);
  return metric;
}

const Metric& insertion_metric() {
  static const FlippingMetric metric(true);
  return metric;
}

}  // namespace glassbox::evaluate
