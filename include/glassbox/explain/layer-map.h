// How a layer's output is read as a map [B, C, h, w] for CAMs, as pytorch-grad-cam's reshape_transform
// does by hand: convolutions give [B, C, h, w]; Swin's and ConvNeXt's blocks give channels last
// [B, h, w, C]; a vision transformer gives tokens [B, prefix + h * w, C], its class token (and any
// distillation or register tokens) first, then the patches row by row. The reading is taken from the
// shape unless stated (LayerOptions::layout, prefix_tokens), and said aloud (describe()).
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/util/ArrayRef.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "glassbox/explain/attribution.h"

namespace glassbox::explain {

struct MapReading {
  LayerLayout layout = LayerLayout::channels_first;
  int64_t prefix_tokens = 0;  // tokens: those before the grid, left out of the map
  int64_t channels = 0, height = 0, width = 0;

  // "[1, 197, 768] read as 1 class token + 14 x 14 tokens of 768 channels".
  std::string describe(c10::IntArrayRef sizes) const;
};

// Reads a layer output of `sizes` (batch first) as a map, for an input of input_height x input_width:
// with options.layout and options.prefix_tokens when stated, else from the shape. [B, a, b, c] is
// channels last when only (a, b) has the input's aspect ratio, else channels first; [B, T, C] is
// tokens, the prefix being the fewest (0 to 8) that leave a grid with the input's aspect ratio.
// Throws glassbox::Error::about("layer", layer, ...) when it cannot be read as a map.
MapReading read_as_map(c10::IntArrayRef sizes, const LayerOptions& options, int64_t input_height, int64_t input_width,
                       const std::string& layer);

// How a listed layer's output (models::LayerInfo::shape, without the batch) reads as a map with the
// reading taken from its shape, or none when it cannot be read as one (not a tensor, a vector, a shape
// without a grid). What `glassbox layers` shows and default_cam_layer chooses among.
std::optional<MapReading> read_listed_layer_as_map(const std::vector<int64_t>& shape, int64_t input_height,
                                                   int64_t input_width);

// The [B, C, h, w] map of a layer's output or of its gradients, read by `reading` (a view where it can be).
at::Tensor to_map(const at::Tensor& output, const MapReading& reading);

// The inverse: maps [N, C, h, w] written back into the layer's own layout, as a layer output for N
// inputs. Tokens outside the grid (the class token, registers) are taken from `like`, a layer output
// [N or 1, ...] (the unmasked activation), since a map has no place for them.
at::Tensor from_map(const at::Tensor& maps, const MapReading& reading, const at::Tensor& like);

}  // namespace glassbox::explain
