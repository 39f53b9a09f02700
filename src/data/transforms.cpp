#include "glassbox/data/transforms.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "glassbox/util/error.h"

namespace glassbox::data {
namespace {

constexpr int kPrecisionBits = 32 - 8 - 2;  // Pillow's fixed point for 8-bit images

// The weights of every output sample along one axis: the input range [first, first + count) and
// count fixed-point coefficients.
struct AxisWeights {
  std::vector<int> first, count;
  std::vector<int32_t> coefficients;  // out_size * max_count
  int max_count = 0;
};

double triangle(double x) {
  x = std::abs(x);
  return x < 1.0 ? 1.0 - x : 0.0;
}

AxisWeights axis_weights(int in_size, int out_size) {
  const double scale = double(in_size) / double(out_size);
  const double filter_scale = std::max(scale, 1.0);  // shrinking widens the filter: antialiasing
  const double support = 1.0 * filter_scale;          // the triangle's support is 1
  AxisWeights w;
  w.max_count = static_cast<int>(std::ceil(support)) * 2 + 1;
  w.first.resize(static_cast<size_t>(out_size));
  w.count.resize(static_cast<size_t>(out_size));
  w.coefficients.assign(static_cast<size_t>(out_size) * static_cast<size_t>(w.max_count), 0);
  std::vector<double> k(static_cast<size_t>(w.max_count));
  for (int i = 0; i < out_size; ++i) {
    const double center = (i + 0.5) * scale;
    int lo = static_cast<int>(center - support + 0.5);
    if (lo < 0) lo = 0;
    int hi = static_cast<int>(center + support + 0.5);
    if (hi > in_size) hi = in_size;
    const int n = std::min(hi - lo, w.max_count);
    double total = 0;
    for (int x = 0; x < n; ++x) total += k[static_cast<size_t>(x)] = triangle((x + lo - center + 0.5) / filter_scale);
    for (int x = 0; x < n; ++x) {
      const double v = total != 0 ? k[static_cast<size_t>(x)] / total : 0.0;
      // Rounded away from zero, as Pillow converts its double coefficients.
      w.coefficients[static_cast<size_t>(i) * static_cast<size_t>(w.max_count) + static_cast<size_t>(x)] =
          static_cast<int32_t>(v < 0 ? -0.5 + v * (1 << kPrecisionBits) : 0.5 + v * (1 << kPrecisionBits));
    }
    w.first[static_cast<size_t>(i)] = lo;
    w.count[static_cast<size_t>(i)] = n;
  }
  return w;
}

uint8_t clip8(int64_t v) {
  v >>= kPrecisionBits;
  return static_cast<uint8_t>(v < 0 ? 0 : v > 255 ? 255 : v);
}

DecodedImage resample_horizontal(const DecodedImage& in, int out_width) {
  const AxisWeights w = axis_weights(in.width, out_width);
  DecodedImage out{out_width, in.height, in.channels, {}};
  const int c = in.channels;
  out.pixels.resize(static_cast<size_t>(out_width) * static_cast<size_t>(in.height) * static_cast<size_t>(c));
  for (int y = 0; y < in.height; ++y) {
    const uint8_t* row = in.pixels.data() + static_cast<size_t>(y) * static_cast<size_t>(in.width) * static_cast<size_t>(c);
    uint8_t* dst = out.pixels.data() + static_cast<size_t>(y) * static_cast<size_t>(out_width) * static_cast<size_t>(c);
    for (int x = 0; x < out_width; ++x) {
      const int32_t* k = &w.coefficients[static_cast<size_t>(x) * static_cast<size_t>(w.max_count)];
      const int lo = w.first[static_cast<size_t>(x)], n = w.count[static_cast<size_t>(x)];
      for (int ch = 0; ch < c; ++ch) {
        int64_t sum = int64_t(1) << (kPrecisionBits - 1);
        for (int i = 0; i < n; ++i) sum += int64_t(row[static_cast<size_t>(lo + i) * static_cast<size_t>(c) + static_cast<size_t>(ch)]) * k[i];
        dst[static_cast<size_t>(x) * static_cast<size_t>(c) + static_cast<size_t>(ch)] = clip8(sum);
      }
    }
  }
  return out;
}

DecodedImage resample_vertical(const DecodedImage& in, int out_height) {
  const AxisWeights w = axis_weights(in.height, out_height);
  DecodedImage out{in.width, out_height, in.channels, {}};
  const size_t row_bytes = static_cast<size_t>(in.width) * static_cast<size_t>(in.channels);
  out.pixels.resize(row_bytes * static_cast<size_t>(out_height));
  for (int y = 0; y < out_height; ++y) {
    const int32_t* k = &w.coefficients[static_cast<size_t>(y) * static_cast<size_t>(w.max_count)];
    const int lo = w.first[static_cast<size_t>(y)], n = w.count[static_cast<size_t>(y)];
    uint8_t* dst = out.pixels.data() + static_cast<size_t>(y) * row_bytes;
    for (size_t x = 0; x < row_bytes; ++x) {
      int64_t sum = int64_t(1) << (kPrecisionBits - 1);
      for (int i = 0; i < n; ++i) sum += int64_t(in.pixels[static_cast<size_t>(lo + i) * row_bytes + x]) * k[i];
      dst[x] = clip8(sum);
    }
  }
  return out;
}

// Python's round(): halves to even.
int round_half_even(double v) { return static_cast<int>(std::nearbyint(v)); }

}  // namespace

void resized_shape(int width, int height, int size, int& out_width, int& out_height) {
  GLASSBOX_CHECK(size >= 1, "resize: size ", size, ", expected at least 1");
  const bool wide = width > height;
  const int shorter = wide ? height : width, longer = wide ? width : height;
  const int new_longer = static_cast<int>(int64_t(size) * longer / shorter);
  out_width = wide ? new_longer : size;
  out_height = wide ? size : new_longer;
}

DecodedImage resize(const DecodedImage& image, int width, int height) {
  GLASSBOX_CHECK(width >= 1 && height >= 1, "resize: size ", width, "x", height, ", expected positive");
  DecodedImage out = image;
  if (width != image.width) out = resample_horizontal(out, width);
  if (height != image.height) out = resample_vertical(out, height);
  return out;
}

DecodedImage center_crop(const DecodedImage& image, int width, int height) {
  GLASSBOX_CHECK(width >= 1 && height >= 1, "center_crop: size ", width, "x", height, ", expected positive");
  const int top = round_half_even((image.height - height) / 2.0), left = round_half_even((image.width - width) / 2.0);
  DecodedImage out{width, height, image.channels, {}};
  const size_t c = static_cast<size_t>(image.channels);
  out.pixels.assign(static_cast<size_t>(width) * static_cast<size_t>(height) * c, 0);
  for (int y = 0; y < height; ++y) {
    const int sy = y + top;
    if (sy < 0 || sy >= image.height) continue;
    for (int x = 0; x < width; ++x) {
      const int sx = x + left;
      if (sx < 0 || sx >= image.width) continue;
      for (size_t ch = 0; ch < c; ++ch)
        out.pixels[(static_cast<size_t>(y) * static_cast<size_t>(width) + static_cast<size_t>(x)) * c + ch] =
            image.pixels[(static_cast<size_t>(sy) * static_cast<size_t>(image.width) + static_cast<size_t>(sx)) * c + ch];
    }
  }
  return out;
}

DecodedImage convert_channels(const DecodedImage& image, int channels) {
  GLASSBOX_CHECK(channels == 1 || channels == 3, "convert: ", channels, " channels, expected 1 or 3");
  if (image.channels == channels) return image;
  GLASSBOX_CHECK(image.channels == 1 || image.channels == 3, "convert: an image of ", image.channels, " channels");
  DecodedImage out{image.width, image.height, channels, {}};
  const size_t n = static_cast<size_t>(image.width) * static_cast<size_t>(image.height);
  out.pixels.resize(n * static_cast<size_t>(channels));
  for (size_t i = 0; i < n; ++i) {
    if (channels == 3) {
      out.pixels[3 * i] = out.pixels[3 * i + 1] = out.pixels[3 * i + 2] = image.pixels[i];
    } else {
      const uint32_t r = image.pixels[3 * i], g = image.pixels[3 * i + 1], b = image.pixels[3 * i + 2];
      out.pixels[i] = static_cast<uint8_t>((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16);
    }
  }
  return out;
}

}  // namespace glassbox::data
