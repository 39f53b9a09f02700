// What the forward-only methods share (feature ablation, Shapley value sampling, KernelSHAP, RISE): the
// input's pixels grouped into features (a grid of square cells, Captum's feature_mask), and the target
// scores of many perturbed copies, each feature kept or replaced by the baseline, run in batched passes
// of at most perturbations_per_eval copies of the batch. They live or die by that batching.
#pragma once

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include "glassbox/explain/methods.h"
#include "glassbox/util/error.h"

namespace glassbox::explain {

struct FeatureGrid {
  int64_t rows = 0, cols = 0;
  at::Tensor pixel_feature;  // [H * W] int64: the feature each pixel belongs to
  int64_t count() const { return rows * cols; }
};

inline FeatureGrid feature_grid(const at::Tensor& x, int64_t cell) {
  // A cell larger than the image is the whole image: one feature (the defaults fit small inputs too).
  GLASSBOX_CHECK(cell >= 1 && cell <= (int64_t(1) << 16), "feature_size ", cell, ": expected 1..65536");
  const int64_t H = x.size(2), W = x.size(3);
  FeatureGrid g;
  g.rows = (H + cell - 1) / cell;
  g.cols = (W + cell - 1) / cell;
  const auto longs = at::TensorOptions().dtype(at::kLong).device(x.device());
  const at::Tensor r = at::arange(H, longs).div(cell, "floor"), c = at::arange(W, longs).div(cell, "floor");
  g.pixel_feature = (r.unsqueeze(1) * g.cols + c.unsqueeze(0)).flatten();
  return g;
}

// Pixel masks [P, 1, H, W] (1: the input's value, 0: the baseline's; fractions blend) -> the targets'
// scores [B, P], in passes of at most `per_eval` masked copies of the batch.
inline at::Tensor masked_scores(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets,
                                const at::Tensor& masks, double baseline, int64_t per_eval, Score score) {
  GLASSBOX_CHECK(per_eval >= 1, "perturbations_per_eval ", per_eval, ": expected at least 1");
  torch::autograd::AutoGradMode no_grad(false);
  const int64_t B = x.size(0), P = masks.size(0), H = x.size(2), W = x.size(3);
  std::vector<at::Tensor> out;
  for (int64_t p0 = 0; p0 < P; p0 += per_eval) {
    const int64_t k = std::min(per_eval, P - p0);
    const at::Tensor m = masks.narrow(0, p0, k).unsqueeze(1);  // [k, 1, 1, H, W]
    const at::Tensor inputs = (x.unsqueeze(0) * m + baseline * (1 - m)).view({k * B, x.size(1), H, W});
    out.push_back(target_scores(model.forward(inputs), targets.repeat({k}), score).view({k, B}));
  }
  return at::cat(out, 0).t();  // [B, P]
}

// keep [P, F] (1: the feature's own values, 0: the baseline's) -> the targets' scores [B, P].
inline at::Tensor perturbed_scores(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets,
                                   const at::Tensor& keep, const FeatureGrid& grid, double baseline, int64_t per_eval,
                                   Score score) {
  const at::Tensor masks = keep.to(x.options()).index_select(1, grid.pixel_feature).view({keep.size(0), 1, x.size(2), x.size(3)});
  return masked_scores(model, x, targets, masks, baseline, per_eval, score);
}

// Feature values [B, F] -> an attribution like x: every pixel (and channel) its feature's value.
inline at::Tensor feature_map(const at::Tensor& values, const FeatureGrid& grid, const at::Tensor& x) {
  return values.index_select(1, grid.pixel_feature).view({x.size(0), 1, x.size(2), x.size(3)}).expand_as(x).contiguous();
}

}  // namespace glassbox::explain
