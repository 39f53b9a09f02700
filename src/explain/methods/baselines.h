// Baselines of the path methods (Integrated Gradients, Layer Integrated Gradients): zeros, or one per
// sample, or one for all.
#pragma once

#include <ATen/ATen.h>

#include "glassbox/util/error.h"

namespace glassbox::explain {

inline at::Tensor broadcast_baseline(const at::Tensor& baselines, const at::Tensor& x) {
  if (!baselines.defined()) return at::zeros_like(x);
  at::Tensor b = baselines.to(x.device(), x.scalar_type());
  if (b.dim() == 3) b = b.unsqueeze(0);
  GLASSBOX_CHECK(b.dim() == 4 && (b.size(0) == 1 || b.size(0) == x.size(0)) && b.size(1) == x.size(1) &&
                     b.size(2) == x.size(2) && b.size(3) == x.size(3),
                 "baselines: ", baselines.sizes(), ", expected like the input ", x.sizes(), " or one [1, C, H, W]");
  return b.expand_as(x);
}

}  // namespace glassbox::explain
