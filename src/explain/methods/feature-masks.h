// What the forward-only methods share (feature ablation and permutation, Shapley value sampling,
// KernelSHAP, LIME, RISE): the input's pixels grouped into features (Captum's feature_mask: a grid of
// square cells, or each sample's superpixels), and the target scores of many perturbed copies, each
// feature kept or replaced, run in batched passes of at most perturbations_per_eval copies of the batch.
// They live or die by that batching.
#pragma once

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <vector>

#include "glassbox/explain/methods.h"
#include "glassbox/explain/perturbation-methods.h"
#include "glassbox/util/error.h"

namespace glassbox::explain {

struct FeatureMask {
  // [1, H * W] (one mask for the whole batch) or [B, H * W] int64: the feature each pixel belongs to.
  at::Tensor pixel_feature;
  // The features of each row of pixel_feature, numbered 0..counts[r]-1.
  std::vector<int64_t> counts;
  int64_t rows = 0, cols = 0;  // the grid's, for a grid

  bool shared() const { return pixel_feature.size(0) == 1; }
  // The most features any sample has: the width of the methods' [.., F] tensors (a sample with fewer
  // never sees the others change anything).
  int64_t count() const { return *std::max_element(counts.begin(), counts.end()); }
  // Sample b's mask alone.
  FeatureMask row(int64_t b) const {
    if (shared()) return *this;
    return FeatureMask{pixel_feature.narrow(0, b, 1), {counts[size_t(b)]}, rows, cols};
  }
};

// A grid of square cells of side `cell`; a cell larger than the image is the whole image (one feature).
FeatureMask feature_grid(const at::Tensor& x, int64_t cell);
// The features options.feature_mask() asks for, for the batch x [B, C, H, W].
FeatureMask feature_mask(const at::Tensor& x, const PerturbationOptions& options);

// The targets' scores [B, P] of P perturbed copies of the batch, in passes of at most `per_eval` copies:
// copies(p0, k) makes copies p0..p0+k-1 as [k, B, C, H, W].
template <class Copies>
at::Tensor batched_scores(models::Classifier& model, const at::Tensor& targets, int64_t P, int64_t per_eval, Score score,
                          Copies copies) {
  GLASSBOX_CHECK_PARAM(per_eval >= 1, "perturbations_per_eval", per_eval, "expected at least 1");
  torch::autograd::AutoGradMode no_grad(false);
  const int64_t B = targets.size(0);
  std::vector<at::Tensor> out;
  for (int64_t p0 = 0; p0 < P; p0 += per_eval) {
    const int64_t k = std::min(per_eval, P - p0);
    const at::Tensor inputs = copies(p0, k);
    out.push_back(target_scores(model.forward(inputs.flatten(0, 1)), targets.repeat({k}), score).view({k, B}));
  }
  return at::cat(out, 0).t();  // [B, P]
}

// Pixel masks [P, 1 or B, H, W] (1: the input's value, 0: the baseline's; fractions blend) -> [B, P].
inline at::Tensor masked_scores(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets,
                                const at::Tensor& masks, double baseline, int64_t per_eval, Score score) {
  return batched_scores(model, targets, masks.size(0), per_eval, score, [&](int64_t p0, int64_t k) {
    const at::Tensor m = masks.narrow(0, p0, k).unsqueeze(2);  // [k, 1 or B, 1, H, W]
    return x.unsqueeze(0) * m + baseline * (1 - m);
  });
}

// keep [P, F] (1: the feature's own values, 0: the baseline's) -> the targets' scores [B, P]; the pixel
// masks are made per pass, so that P masks of every sample never exist at once.
inline at::Tensor perturbed_scores(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets,
                                   const at::Tensor& keep, const FeatureMask& mask, double baseline, int64_t per_eval,
                                   Score score) {
  const at::Tensor k_all = keep.to(x.options());
  const int64_t R = mask.pixel_feature.size(0), H = x.size(2), W = x.size(3);
  return batched_scores(model, targets, keep.size(0), per_eval, score, [&](int64_t p0, int64_t k) {
    const at::Tensor m = k_all.narrow(0, p0, k).index_select(1, mask.pixel_feature.flatten()).view({k, R, 1, H, W});
    return x.unsqueeze(0) * m + baseline * (1 - m);
  });
}

// Feature values [B, F] -> an attribution like x: every pixel (and channel) its feature's value.
inline at::Tensor feature_map(const at::Tensor& values, const FeatureMask& mask, const at::Tensor& x) {
  const int64_t B = x.size(0), HW = x.size(2) * x.size(3);
  return values.gather(1, mask.pixel_feature.expand({B, HW})).view({B, 1, x.size(2), x.size(3)}).expand_as(x).contiguous();
}

// Runs `one(x_b, targets_b, mask_b)` -> [1, ...] per sample when the mask is each sample's own (LIME
// and KernelSHAP fit one model per feature set), or once for the whole batch when it is shared.
template <class One>
at::Tensor per_mask(const at::Tensor& x, const at::Tensor& targets, const FeatureMask& mask, One one) {
  if (mask.shared()) return one(x, targets, mask);
  std::vector<at::Tensor> rows;
  for (int64_t b = 0; b < x.size(0); ++b) rows.push_back(one(x.narrow(0, b, 1), targets.narrow(0, b, 1), mask.row(b)));
  return at::cat(rows, 0);
}

}  // namespace glassbox::explain
