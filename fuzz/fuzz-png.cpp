// libFuzzer target for PNG decoding: any byte string decodes (within the pixel limit) or throws
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
    const auto im = glassbox::data::decode_png(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.png", options);
    if (im.pixels.size() != static_cast<size_t>(im.width) * im.height * im.channels) __builtin_trap();
  } catch (const glassbox::Error&) {
  }
  return 0;
}
