// How alike two attribution maps are, for the randomisation tests: Spearman's rank correlation and SSIM,
// with the definitions of scipy.stats.spearmanr and skimage.metrics.structural_similarity.
#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "glassbox/evaluate/faithfulness.h"
#include "glassbox/util/error.h"

namespace glassbox::evaluate {

namespace {

// Ranks 1..n, ties sharing their average rank (scipy's rankdata "average").
std::vector<double> average_ranks(const double* v, int64_t n) {
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return v[a] < v[b]; });
  std::vector<double> ranks(static_cast<size_t>(n));
  for (int64_t i = 0; i < n;) {
    int64_t j = i;
    while (j + 1 < n && v[order[static_cast<size_t>(j + 1)]] == v[order[static_cast<size_t>(i)]]) ++j;
    const double rank = 0.5 * static_cast<double>(i + j) + 1.0;
    for (int64_t k = i; k <= j; ++k) ranks[static_cast<size_t>(order[static_cast<size_t>(k)])] = rank;
    i = j + 1;
  }
  return ranks;
}

void check_pair(const at::Tensor& a, const at::Tensor& b, const char* what) {
  GLASSBOX_CHECK(a.defined() && b.defined() && a.sizes() == b.sizes() && a.dim() >= 2, what, ": maps ",
                 a.defined() ? a.sizes() : at::IntArrayRef{}, " and ", b.defined() ? b.sizes() : at::IntArrayRef{},
                 ": expected two batches of one shape");
}

}  // namespace

at::Tensor relevance_map(const at::Tensor& attributions) {
  GLASSBOX_CHECK(attributions.defined() && attributions.dim() == 4, "relevance_map: expected [B, C, H, W], got ",
                 attributions.defined() ? attributions.sizes() : at::IntArrayRef{});
  return attributions.to(at::kFloat).sum(1).abs();
}

at::Tensor spearman(const at::Tensor& a, const at::Tensor& b) {
  check_pair(a, b, "spearman");
  const at::Tensor A = a.to(at::kCPU, at::kDouble).flatten(1).contiguous(), Bt = b.to(at::kCPU, at::kDouble).flatten(1).contiguous();
  const int64_t rows = A.size(0), n = A.size(1);
  at::Tensor out = at::empty({rows}, at::kDouble);
  for (int64_t r = 0; r < rows; ++r) {
    const std::vector<double> ra = average_ranks(A[r].data_ptr<double>(), n), rb = average_ranks(Bt[r].data_ptr<double>(), n);
    const double mean = 0.5 * static_cast<double>(n + 1);
    double sab = 0, saa = 0, sbb = 0;
    for (int64_t i = 0; i < n; ++i) {
      const double da = ra[static_cast<size_t>(i)] - mean, db = rb[static_cast<size_t>(i)] - mean;
      sab += da * db, saa += da * da, sbb += db * db;
    }
    // A constant map has no order: the correlation is undefined (scipy's nan).
    out[r] = saa > 0 && sbb > 0 ? sab / std::sqrt(saa * sbb) : std::numeric_limits<double>::quiet_NaN();
  }
  return out;
}

at::Tensor ssim(const at::Tensor& a, const at::Tensor& b) {
  check_pair(a, b, "ssim");
  GLASSBOX_CHECK(a.dim() == 3, "ssim: expected maps [B, H, W], got ", a.sizes());
  const int64_t win = 7;
  if (a.size(1) < win || a.size(2) < win)
    return at::full({a.size(0)}, std::numeric_limits<double>::quiet_NaN(), at::kDouble);
  auto scaled = [](const at::Tensor& m) {
    const at::Tensor flat = m.to(at::kCPU, at::kDouble).flatten(1);
    const at::Tensor lo = std::get<0>(flat.min(1, true)), hi = std::get<0>(flat.max(1, true));
    const at::Tensor range = hi - lo;
    return ((flat - lo) / at::where(range.gt(0), range, at::ones_like(range))).view_as(m).unsqueeze(1).to(at::kDouble);
  };
  const at::Tensor x = scaled(a), y = scaled(b);
  auto mean = [&](const at::Tensor& t) { return at::avg_pool2d(t, {win, win}, {1, 1}); };
  const at::Tensor ux = mean(x), uy = mean(y), uxx = mean(x * x), uyy = mean(y * y), uxy = mean(x * y);
  const double np = static_cast<double>(win * win), cov = np / (np - 1);
  const at::Tensor vx = cov * (uxx - ux * ux), vy = cov * (uyy - uy * uy), vxy = cov * (uxy - ux * uy);
  const double c1 = 0.01 * 0.01, c2 = 0.03 * 0.03;  // (K1 * R)^2, (K2 * R)^2 with data range R = 1
  const at::Tensor s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2));
  return s.flatten(1).mean(1);
}

}  // namespace glassbox::evaluate
