#include "glassbox/render/colormap.h"

#include <cmath>
#include <vector>

#include "glassbox/util/error.h"

namespace glassbox::render {
namespace {

struct Stop {
  double t;
  uint8_t r, g, b;
};

// Viridis by its published 10-colour palette (#440154 ... #FDE725), linearly interpolated: close to the
// full 256-entry map, perceptually uniform enough for magnitudes, and readable in gray.
const std::vector<Stop> kViridis = {
    {0.0 / 9, 0x44, 0x01, 0x54}, {1.0 / 9, 0x48, 0x28, 0x78}, {2.0 / 9, 0x3E, 0x4A, 0x89}, {3.0 / 9, 0x31, 0x68, 0x8E},
    {4.0 / 9, 0x26, 0x82, 0x8E}, {5.0 / 9, 0x1F, 0x9E, 0x89}, {6.0 / 9, 0x35, 0xB7, 0x79}, {7.0 / 9, 0x6D, 0xCD, 0x59},
    {8.0 / 9, 0xB4, 0xDE, 0x2C}, {9.0 / 9, 0xFD, 0xE7, 0x25}};

// Blue (negative: ink removed) - white (0) - red (positive: ink added), from ColorBrewer's RdBu.
const std::vector<Stop> kDiverging = {
    {0.0, 0x05, 0x30, 0x61}, {0.15, 0x21, 0x66, 0xAC}, {0.3, 0x43, 0x93, 0xC3}, {0.42, 0x92, 0xC5, 0xDE},
    {0.5, 0xF7, 0xF7, 0xF7}, {0.58, 0xF4, 0xA5, 0x82}, {0.7, 0xD6, 0x60, 0x4D}, {0.85, 0xB2, 0x18, 0x2B},
    {1.0, 0x67, 0x00, 0x1F}};

std::array<uint8_t, 3> interpolate(const std::vector<Stop>& stops, double t) {
  if (!(t >= 0)) t = 0;  // NaN too
  if (t > 1) t = 1;
  size_t i = 1;
  while (i + 1 < stops.size() && stops[i].t < t) ++i;
  const Stop& a = stops[i - 1];
  const Stop& b = stops[i];
  const double f = b.t > a.t ? (t - a.t) / (b.t - a.t) : 0;
  auto mix = [f](uint8_t x, uint8_t y) { return static_cast<uint8_t>(std::lround(x + (y - x) * f)); };
  return {mix(a.r, b.r), mix(a.g, b.g), mix(a.b, b.b)};
}

std::array<std::array<uint8_t, 3>, 256> make_table(Colormap map) {
  std::array<std::array<uint8_t, 3>, 256> table{};
  for (int i = 0; i < 256; ++i) table[i] = color_at(map, i / 255.0);
  return table;
}

}  // namespace

std::array<uint8_t, 3> color_at(Colormap map, double t) {
  switch (map) {
    case Colormap::viridis: return interpolate(kViridis, t);
    case Colormap::diverging: return interpolate(kDiverging, t);
    case Colormap::gray: {
      if (!(t >= 0)) t = 0;
      const auto v = static_cast<uint8_t>(std::lround(std::min(t, 1.0) * 255));
      return {v, v, v};
    }
  }
  return {0, 0, 0};
}

const std::array<std::array<uint8_t, 3>, 256>& colormap_table(Colormap map) {
  static const auto viridis = make_table(Colormap::viridis);
  static const auto diverging = make_table(Colormap::diverging);
  static const auto gray = make_table(Colormap::gray);
  return map == Colormap::viridis ? viridis : map == Colormap::diverging ? diverging : gray;
}

}  // namespace glassbox::render
