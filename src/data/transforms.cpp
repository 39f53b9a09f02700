#include "glassbox/data/transforms.h"

#include <algorithm>
#include <cmath>
#include <cstring>
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

inline uint8_t clip8(int32_t v) {
  v >>= kPrecisionBits;
  return static_cast<uint8_t>(v < 0 ? 0 : v > 255 ? 255 : v);
}

// Horizontal pass, for output columns [x0, x0 + w) and input rows [y0, y0 + h). int32 sums: with the
// triangle's non-negative weights they stay below 255 * 2^22 + 2^21.
template <int C>
void horizontal(const DecodedImage& in, const AxisWeights& wt, int x0, int w, int y0, int h, uint8_t* out) {
  for (int y = 0; y < h; ++y) {
    const uint8_t* row = in.pixels.data() + static_cast<size_t>(y0 + y) * static_cast<size_t>(in.width) * C;
    uint8_t* dst = out + static_cast<size_t>(y) * static_cast<size_t>(w) * C;
    for (int x = 0; x < w; ++x) {
      const int32_t* k = &wt.coefficients[static_cast<size_t>(x0 + x) * static_cast<size_t>(wt.max_count)];
      const int lo = wt.first[static_cast<size_t>(x0 + x)], n = wt.count[static_cast<size_t>(x0 + x)];
      const uint8_t* src = row + static_cast<size_t>(lo) * C;
      int32_t acc[C];
      for (int c = 0; c < C; ++c) acc[c] = 1 << (kPrecisionBits - 1);
      for (int i = 0; i < n; ++i)
        for (int c = 0; c < C; ++c) acc[c] += src[i * C + c] * k[i];
      for (int c = 0; c < C; ++c) dst[static_cast<size_t>(x) * C + c] = clip8(acc[c]);
    }
  }
}

// Vertical pass over rows of `row_bytes`, for output rows [y0, y0 + h): each output row a weighted
// sum of whole input rows (contiguous, so the compiler vectorises it). `in` starts at input row in_row0.
void vertical(const uint8_t* in, size_t row_bytes, const AxisWeights& wt, int y0, int h, uint8_t* out, int in_row0) {
  std::vector<int32_t> acc(row_bytes);
  for (int y = 0; y < h; ++y) {
    const int32_t* k = &wt.coefficients[static_cast<size_t>(y0 + y) * static_cast<size_t>(wt.max_count)];
    const int lo = wt.first[static_cast<size_t>(y0 + y)], n = wt.count[static_cast<size_t>(y0 + y)];
    std::fill(acc.begin(), acc.end(), 1 << (kPrecisionBits - 1));
    for (int i = 0; i < n; ++i) {
      const uint8_t* __restrict src = in + static_cast<size_t>(lo + i - in_row0) * row_bytes;
      int32_t* __restrict a = acc.data();
      const int32_t ki = k[i];
      for (size_t x = 0; x < row_bytes; ++x) a[x] += src[x] * ki;
    }
    uint8_t* dst = out + static_cast<size_t>(y) * row_bytes;
    for (size_t x = 0; x < row_bytes; ++x) dst[x] = clip8(acc[x]);
  }
}

// The window [x0, x0 + w) x [y0, y0 + h) of the image resized to out_width x out_height: only the
// pixels a crop keeps are computed, each exactly as a full resize computes it.
DecodedImage resize_window(const DecodedImage& in, int out_width, int out_height, int x0, int y0, int w, int h) {
  const int c = in.channels;
  GLASSBOX_CHECK(c == 1 || c == 3, "resize: ", c, " channels, expected 1 or 3");
  const bool horizontal_pass = out_width != in.width, vertical_pass = out_height != in.height;
  // The input rows the vertical pass reads for the window's rows (the window's own without one).
  AxisWeights vw;
  int row0 = y0, rows = h;
  if (vertical_pass) {
    vw = axis_weights(in.height, out_height);
    row0 = vw.first[static_cast<size_t>(y0)];
    int end = row0;
    for (int y = y0; y < y0 + h; ++y) end = std::max(end, vw.first[static_cast<size_t>(y)] + vw.count[static_cast<size_t>(y)]);
    rows = end - row0;
  }
  DecodedImage mid{w, rows, c, {}};
  mid.pixels.resize(static_cast<size_t>(w) * static_cast<size_t>(rows) * static_cast<size_t>(c));
  if (horizontal_pass) {
    const AxisWeights hw = axis_weights(in.width, out_width);
    if (c == 1) horizontal<1>(in, hw, x0, w, row0, rows, mid.pixels.data());
    else horizontal<3>(in, hw, x0, w, row0, rows, mid.pixels.data());
  } else {
    for (int y = 0; y < rows; ++y)
      std::memcpy(mid.pixels.data() + static_cast<size_t>(y) * static_cast<size_t>(w) * static_cast<size_t>(c),
                  in.pixels.data() + (static_cast<size_t>(row0 + y) * static_cast<size_t>(in.width) + static_cast<size_t>(x0)) * static_cast<size_t>(c),
                  static_cast<size_t>(w) * static_cast<size_t>(c));
  }
  if (!vertical_pass) return mid;
  DecodedImage out{w, h, c, {}};
  out.pixels.resize(static_cast<size_t>(w) * static_cast<size_t>(h) * static_cast<size_t>(c));
  vertical(mid.pixels.data(), static_cast<size_t>(w) * static_cast<size_t>(c), vw, y0, h, out.pixels.data(), row0);
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
  if (width == image.width && height == image.height) return image;
  return resize_window(image, width, height, 0, 0, width, height);
}

DecodedImage resize_and_crop(const DecodedImage& image, int width, int height, int crop_width, int crop_height) {
  GLASSBOX_CHECK(width >= 1 && height >= 1, "resize: size ", width, "x", height, ", expected positive");
  if (crop_width > width || crop_height > height || (width == image.width && height == image.height))
    return center_crop(resize(image, width, height), crop_width, crop_height);
  const int top = round_half_even((height - crop_height) / 2.0), left = round_half_even((width - crop_width) / 2.0);
  return resize_window(image, width, height, left, top, crop_width, crop_height);
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
