#include "glassbox/explain/attribution-display.h"

#include <ATen/ATen.h>

#include "glassbox/util/error.h"
#include "glassbox/util/enum-names.h"

namespace glassbox::explain {

namespace {
const char* const kSignNames[] = {"auto", "all", "positive", "negative", "absolute_value"};  // AttributionSign's order
}  // namespace

std::vector<std::string> attribution_sign_names() { return enum_names(kSignNames); }
AttributionSign parse_attribution_sign(const std::string& name) {
  return enum_from_name<AttributionSign>(kSignNames, name, "sign");
}
const char* attribution_sign_name(AttributionSign sign) { return enum_name(kSignNames, sign); }

at::Tensor reduce_attribution(const at::Tensor& attribution, AttributionSign sign, double outlier_percent,
                              AttributionSign* used) {
  GLASSBOX_CHECK(outlier_percent >= 0 && outlier_percent < 100, "outlier_percent ", outlier_percent, ": expected 0..100");
  at::Tensor a = attribution.detach().to(at::kCPU).to(at::kDouble);
  if (a.dim() == 3) a = a.sum(0);
  GLASSBOX_CHECK(a.dim() == 2, "attribution ", attribution.sizes(), ": expected [C, H, W] or [H, W]");
  a = at::nan_to_num(a, 0.0, 0.0, 0.0);
  if (sign == AttributionSign::automatic)
    sign = a.min().item<double>() >= 0 ? AttributionSign::absolute_value : AttributionSign::all;
  if (used) *used = sign;
  switch (sign) {
    case AttributionSign::positive: a = a.clamp_min(0); break;
    case AttributionSign::negative: a = (-a).clamp_min(0); break;
    case AttributionSign::absolute_value: a = a.abs(); break;
    default: break;
  }
  // Captum's threshold: the magnitude at which the sorted magnitudes' running sum reaches
  // (100 - outlier_percent) % of their total.
  const at::Tensor sorted = std::get<0>(a.abs().flatten().sort());
  const at::Tensor cumulative = sorted.cumsum(0);
  const double total = cumulative[-1].item<double>();
  if (total <= 0) return a.to(at::kFloat);
  const int64_t at_threshold = (cumulative >= total * (100.0 - outlier_percent) / 100.0).to(at::kLong).argmax().item<int64_t>();
  const double threshold = sorted[at_threshold].item<double>();
  if (threshold <= 0) return a.to(at::kFloat);
  return (a / threshold).clamp(sign == AttributionSign::all ? -1.0 : 0.0, 1.0).to(at::kFloat);
}

at::Tensor attribution_over_input(const at::Tensor& a, const at::Tensor& x) {
  if (a.sizes() == x.sizes()) return a;
  GLASSBOX_CHECK(a.dim() == 4 && a.size(0) == x.size(0), "attributions ", a.sizes(), ": expected [B, C, H, W] for the input ",
                 x.sizes());
  at::Tensor map = a.size(1) == 1 ? a : a.sum(1, true);
  if (map.size(2) != x.size(2) || map.size(3) != x.size(3))
    map = at::upsample_bilinear2d(map.to(at::kFloat), {x.size(2), x.size(3)}, /*align_corners=*/false);
  return map;
}

}  // namespace glassbox::explain
