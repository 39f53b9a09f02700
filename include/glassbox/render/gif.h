// Animated GIFs (giflib), for morph trajectories: TensorBoard's images dashboard shows them animated.
#pragma once

#include <string>
#include <vector>

#include "glassbox/render/image.h"

namespace glassbox::render {

// Encodes `frames` (all the same size) as a looping animation, `delay_cs` hundredths of a second per
// frame (the last frame holds `last_delay_cs`). One palette of up to 256 colours for all frames: the
// most frequent colours at 5 bits per channel, each pixel drawn in its nearest palette colour.
std::string encode_gif(const std::vector<RgbImage>& frames, int delay_cs = 12, int last_delay_cs = 150);

}  // namespace glassbox::render
