#include "glassbox/render/encoded-size.h"

#include <cstdint>

namespace glassbox::render {

bool encoded_image_size(const std::string& b, int& width, int& height) {
  auto u8 = [&](size_t i) { return static_cast<uint32_t>(static_cast<uint8_t>(b[i])); };
  if (b.size() >= 24 && b.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0) {
    width = static_cast<int>((u8(16) << 24) | (u8(17) << 16) | (u8(18) << 8) | u8(19));
    height = static_cast<int>((u8(20) << 24) | (u8(21) << 16) | (u8(22) << 8) | u8(23));
    return true;
  }
  if (b.size() >= 10 && (b.compare(0, 6, "GIF89a") == 0 || b.compare(0, 6, "GIF87a") == 0)) {
    width = static_cast<int>(u8(6) | (u8(7) << 8));
    height = static_cast<int>(u8(8) | (u8(9) << 8));
    return true;
  }
  return false;
}

}  // namespace glassbox::render
