// The feature masks and the names of their kinds.
#include "feature-masks.h"

#include "glassbox/util/enum-names.h"

namespace glassbox::explain {
namespace {
const char* const kMaskNames[] = {"grid", "superpixels"};  // FeatureMaskKind's order
}  // namespace

FeatureMaskKind parse_feature_mask_kind(const std::string& name) {
  return enum_from_name<FeatureMaskKind>(kMaskNames, name, "feature_mask");
}
std::vector<std::string> feature_mask_kind_names() { return enum_names(kMaskNames); }
const char* feature_mask_kind_name(FeatureMaskKind kind) { return enum_name(kMaskNames, kind); }

FeatureMask feature_grid(const at::Tensor& x, int64_t cell) {
  GLASSBOX_CHECK_PARAM(cell >= 1 && cell <= (int64_t(1) << 16), "feature_size", cell, "expected 1..65536");
  const int64_t H = x.size(2), W = x.size(3);
  FeatureMask g;
  g.rows = (H + cell - 1) / cell;
  g.cols = (W + cell - 1) / cell;
  const auto longs = at::TensorOptions().dtype(at::kLong).device(x.device());
  const at::Tensor r = at::arange(H, longs).div(cell, "floor"), c = at::arange(W, longs).div(cell, "floor");
  g.pixel_feature = (r.unsqueeze(1) * g.cols + c.unsqueeze(0)).view({1, H * W});
  g.counts = {g.rows * g.cols};
  return g;
}

FeatureMask feature_mask(const at::Tensor& x, const PerturbationOptions& o) {
  if (o.feature_mask() == FeatureMaskKind::grid) return feature_grid(x, o.feature_size());
  FeatureMask m;
  std::vector<at::Tensor> labels;
  for (int64_t b = 0; b < x.size(0); ++b) {
    labels.push_back(slic(x[b], o.slic()).flatten());
    m.counts.push_back(labels.back().max().item<int64_t>() + 1);
  }
  m.pixel_feature = at::stack(labels).to(x.device());
  return m;
}

}  // namespace glassbox::explain
