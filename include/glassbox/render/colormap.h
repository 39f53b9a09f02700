// Colormaps: viridis for images and magnitudes, a diverging map centred on 0 for signed gradients
// (where ink is added vs removed), and gray.
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace glassbox::render {

enum class Colormap { viridis, diverging, gray };

// The colour at t in [0, 1] (clamped; NaN draws as the low end).
std::array<uint8_t, 3> color_at(Colormap map, double t);

// A 256-entry lookup table, for drawing many pixels.
const std::array<std::array<uint8_t, 3>, 256>& colormap_table(Colormap map);

}  // namespace glassbox::render
