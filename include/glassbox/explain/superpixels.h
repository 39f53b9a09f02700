// SLIC superpixels (Achanta et al. 2012, "SLIC Superpixels Compared to State-of-the-Art Superpixel
// Methods"): k-means on colour and position, each centre searching only the 2S x 2S window around it,
// then connectivity enforced (components smaller than a quarter of a cell merged into a neighbour).
// Used as the forward-only methods' features (Captum's feature_mask, LIME's segmentation): pixels that
// look alike and lie together are switched on and off together.
//
// Written here rather than taken from a package: Debian's C++ implementation lives in OpenCV's contrib
// modules, a large dependency for one short algorithm whose every step the paper fixes.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

#include "glassbox/util/arg.h"

namespace glassbox::explain {

struct SlicOptions {
  // How many superpixels to aim for (the paper's K; skimage's n_segments, 100). The result has about as
  // many: the grid of starting centres is the nearest to K square cells, and merging removes some.
  GLASSBOX_ARG(int64_t, n_segments) = 100;
  // The paper's m: the weight of distance in space against distance in colour (CIELAB, L in 0..100).
  // Larger: more compact, more square superpixels; smaller: closer to the image's edges.
  GLASSBOX_ARG(double, compactness) = 10.0;
  // Assignment and update rounds (the paper: 10 suffice).
  GLASSBOX_ARG(int64_t, iterations) = 10;
};

// image [C, H, W] (any affine scale per channel: each channel is stretched to its own range first, so
// a normalised model input segments as its picture does; three channels are read as RGB and compared in
// CIELAB, others as intensities on L's scale) -> labels [H, W] int64 in 0..K-1, every label one
// 4-connected region, on the image's device.
at::Tensor slic(const at::Tensor& image, const SlicOptions& options = {});

}  // namespace glassbox::explain
