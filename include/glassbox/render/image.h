// Plain image buffers for drawing: no libtorch here, so the drawing code builds and tests on its own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace glassbox::render {

// Float samples, channel-major (C x H x W), as a tensor's contiguous data.
struct Plane {
  int channels = 1, height = 0, width = 0;
  std::vector<float> data;

  float at(int c, int y, int x) const { return data[(static_cast<size_t>(c) * height + y) * width + x]; }
  bool empty() const { return data.empty(); }
};

// 8-bit RGB pixels, row-major, interleaved.
struct RgbImage {
  int width = 0, height = 0;
  std::vector<uint8_t> pixels;  // width * height * 3
};

}  // namespace glassbox::render
