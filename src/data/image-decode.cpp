#include "glassbox/data/image-decode.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include "glassbox/util/error.h"
#include "glassbox/util/file-bytes.h"

namespace glassbox::data {

uint64_t max_image_pixels() {
  const char* env = std::getenv("GLASSBOX_MAX_IMAGE_PIXELS");
  if (env == nullptr || *env == '\0') return kDefaultMaxImagePixels;
  char* end = nullptr;
  errno = 0;
  const unsigned long long v = std::strtoull(env, &end, 10);
  GLASSBOX_CHECK(errno == 0 && *end == '\0' && v > 0 && env[0] != '-', "GLASSBOX_MAX_IMAGE_PIXELS ",
                 printable_excerpt(env), ": expected a positive pixel count");
  return v;
}

ImageInfo probe_image(std::string_view bytes, const std::string& name) {
  if (bytes.size() >= 8 && bytes.substr(0, 8) == "\x89PNG\r\n\x1a\n") {
    // The IHDR chunk always comes first: length (13), "IHDR", width, height, bit depth, colour type.
    GLASSBOX_CHECK(bytes.size() >= 33 && bytes.substr(12, 4) == "IHDR", name, ": corrupt PNG (no IHDR chunk first)");
    auto be32 = [&](size_t at) {
      uint32_t v = 0;
      for (size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(bytes[at + i]);
      return v;
    };
    const uint32_t w = be32(16), h = be32(20);
    const int color = static_cast<uint8_t>(bytes[25]);
    GLASSBOX_CHECK(w >= 1 && h >= 1 && w <= (1u << 20) && h <= (1u << 20), name, ": corrupt PNG (size ", w, "x", h, ")");
    GLASSBOX_CHECK(color == 0 || color == 2 || color == 3 || color == 4 || color == 6, name,
                   ": corrupt PNG (colour type ", color, ")");
    return {static_cast<int>(w), static_cast<int>(h), color == 0 || color == 4 ? 1 : 3};
  }
  if (bytes.size() >= 3 && bytes.substr(0, 3) == "\xFF\xD8\xFF") return probe_jpeg(bytes, name);
  throw Error(name + ": not a PNG or JPEG file (" + (bytes.empty() ? "empty" : "no PNG or JPEG signature") + ")");
}

DecodedImage decode_image(std::string_view bytes, const std::string& name, const DecodeOptions& options) {
  if (bytes.size() >= 8 && bytes.substr(0, 8) == "\x89PNG\r\n\x1a\n") return decode_png(bytes, name, options);
  if (bytes.size() >= 3 && bytes.substr(0, 3) == "\xFF\xD8\xFF") return decode_jpeg(bytes, name, options);
  throw Error(name + ": not a PNG or JPEG file (" + (bytes.empty() ? "empty" : "no PNG or JPEG signature") + ")");
}

std::string read_image_bytes(const std::string& path) {
  // An image file larger than 1 GiB is not one glassbox decodes (the pixel limit alone is ~256 MB of RGB).
  constexpr uint64_t kMaxFileBytes = uint64_t(1) << 30, kHeadBytes = 1 << 18, kOtherBytes = 16 << 20;
  const FileReader file(path);
  const size_t head_size = static_cast<size_t>(std::min<uint64_t>(file.size(), kHeadBytes));
  std::string bytes = file.read_at(0, head_size);
  if (bytes.size() == file.size()) return bytes;
  GLASSBOX_CHECK(file.size() <= kMaxFileBytes, path, ": ", file.size(), " bytes, more than the ", kMaxFileBytes,
                 " an image file may have");
  // A 16-bit RGBA PNG stored without compression takes a little over 8 bytes a pixel; no JPEG's entropy
  // coding reaches 16. A header not found in the head (a JPEG after a large EXIF block) leaves the 1 GiB.
  ImageInfo info;
  try {
    info = probe_image(bytes, path);
  } catch (const Error&) {
  }
  const uint64_t pixels = uint64_t(info.width) * uint64_t(info.height);
  GLASSBOX_CHECK(pixels == 0 || file.size() <= pixels * 16 + kOtherBytes, path, ": ", file.size(), " bytes, more than a ",
                 info.width, "x", info.height, " image can take (", pixels * 16 + kOtherBytes, ")");
  bytes += file.read_at(head_size, static_cast<size_t>(file.size() - head_size));
  return bytes;
}

DecodedImage read_image_file(const std::string& path, const DecodeOptions& options) {
  return decode_image(read_image_bytes(path), path, options);
}

}  // namespace glassbox::data
