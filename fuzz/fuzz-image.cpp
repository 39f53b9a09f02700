// libFuzzer target for image decoding (PNG through libpng, JPEG through libjpeg, told apart by their
// signature) and the header probe: any byte string decodes (within the pixel limit) or throws
// glassbox::Error; never a crash, a read out of bounds, or a longjmp over a destructor (ASan watches).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "glassbox/data/image-decode.h"
#include "glassbox/util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  glassbox::data::DecodeOptions options;
  options.max_pixels = 1 << 20;  // a fuzzer's megapixel is plenty; keeps each run fast
  try {
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    try {
      glassbox::data::probe_image(bytes, "fuzz");
    } catch (const glassbox::Error&) {
    }
    const auto im = glassbox::data::decode_image(bytes, "fuzz", options);
    if (im.pixels.size() != static_cast<size_t>(im.width) * im.height * im.channels) __builtin_trap();
  } catch (const glassbox::Error&) {
  }
  return 0;
}
