// A small generated classification problem for the tests that train: three classes of 12x12 images, a
// bright band at the top, middle or bottom over noise. The same for a seed on every process (a rank of a
// distributed run, a GPU test), as every rank of a real run reads the same files.
#pragma once

#include <ATen/ATen.h>

#include "glassbox/data/dataset.h"

namespace glassbox::testing {

inline data::Dataset band_images(int64_t n, uint64_t seed) {
  at::manual_seed(seed);
  const at::Tensor labels = at::randint(0, 3, {n}, at::kLong);
  at::Tensor images = at::rand({n, 1, 12, 12}).mul_(90);
  for (int64_t k = 0; k < 3; ++k) images.narrow(2, 4 * k, 4).add_(labels.eq(k).to(at::kFloat).view({n, 1, 1, 1}) * 140);
  return data::Dataset(images.to(at::kByte), labels, 3);
}

}  // namespace glassbox::testing
