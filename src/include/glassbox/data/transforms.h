// torchvision's image transforms on 8-bit images, with their names and their results: Resize (the
// shorter side to a size, or an exact size; bilinear and antialiased as Pillow computes it), CenterCrop,
// and the channel conversions of PIL's convert(). ToTensor and Normalize happen when a batch is made
// (Dataset::batch). Free of libtorch.
#pragma once

#include <cstdint>
#include <string>

#include "glassbox/data/image-decode.h"

namespace glassbox::data {

// Resize(size) with an int: the shorter side becomes `size`, the longer one size * long / short
// (truncated), as torchvision computes it.
void resized_shape(int width, int height, int size, int& out_width, int& out_height);

// Bilinear, antialiased when shrinking (the filter widens with the scale), separable (horizontal pass,
// then vertical), in 22-bit fixed point with rounding and clamping between the passes: Pillow's
// Image.resize(..., BILINEAR), which torchvision's Resize calls on PIL images.
DecodedImage resize(const DecodedImage& image, int width, int height);

// resize then center_crop, computing only the pixels the crop keeps (the same values, less work).
DecodedImage resize_and_crop(const DecodedImage& image, int width, int height, int crop_width, int crop_height);

// CenterCrop: the window's top-left corner at round((H - h) / 2), round((W - w) / 2) with Python's
// rounding (half to even); a window larger than the image is padded with zeros, as torchvision does.
DecodedImage center_crop(const DecodedImage& image, int width, int height);

// PIL's convert("L") (ITU-R 601-2 luma, L = (19595 R + 38470 G + 7471 B + 32768) >> 16) or
// convert("RGB") (gray replicated). `channels` is 1 or 3.
DecodedImage convert_channels(const DecodedImage& image, int channels);

}  // namespace glassbox::data
