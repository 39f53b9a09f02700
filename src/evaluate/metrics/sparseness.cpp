// Sparseness (Chalasani et al. 2020) as Quantus computes it: the Gini index of the attribution's
// magnitudes. A cheap description of how concentrated a map is, not a verdict on its faithfulness.
#include <ATen/ATen.h>

#include "glassbox/evaluate/faithfulness.h"
#include "glassbox/evaluate/metrics.h"
#include "glassbox/util/error.h"

namespace glassbox::evaluate {

at::Tensor gini(const at::Tensor& attributions) {
  GLASSBOX_CHECK(attributions.defined() && attributions.dim() >= 2, "gini: expected a batch of attributions, got ",
                 attributions.defined() ? attributions.sizes() : at::IntArrayRef{});
  // Quantus adds 1e-7 to every magnitude: an all-zero map then has index 0 instead of 0 / 0.
  const at::Tensor a = std::get<0>((attributions.to(at::kCPU, at::kDouble).flatten(1).abs() + 1e-7).sort(1));
  const int64_t n = a.size(1);
  const at::Tensor k = at::arange(1, n + 1, a.options());
  return ((2 * k - n - 1) * a).sum(1) / (static_cast<double>(n) * a.sum(1));
}

namespace {

class SparsenessMetric final : public Metric {
 public:
  const char* name() const override { return "gini"; }
  const char* help() const override {
    return "sparseness: the Gini index of |attribution| (Chalasani et al., as Quantus): 0 uniform, near 1 concentrated";
  }
  int better() const override { return 0; }
  MetricResult evaluate(const MetricRequest& r) const override { return {gini(r.attributions), {}, {}, {}, ""}; }
};

}  // namespace

const Metric& sparseness_metric() {
  static const SparsenessMetric metric;
  return metric;
}

}  // namespace glassbox::evaluate
