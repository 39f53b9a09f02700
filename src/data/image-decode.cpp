#include "glassbox/data/image-decode.h"

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

DecodedImage decode_image(std::string_view bytes, const std::string& name, const DecodeOptions& options) {
  if (bytes.size() >= 8 && bytes.substr(0, 8) == "\x89PNG\r\n\x1a\n") return decode_png(bytes, name, options);
  if (bytes.size() >= 3 && bytes.substr(0, 3) == "\xFF\xD8\xFF") return decode_jpeg(bytes, name, options);
  throw Error(name + ": not a PNG or JPEG file (" + (bytes.empty() ? "empty" : "no PNG or JPEG signature") + ")");
}

DecodedImage read_image_file(const std::string& path, const DecodeOptions& options) {
  // An image file larger than 1 GiB is not one glassbox decodes (the pixel limit alone is ~256 MB of RGB).
  const std::string bytes = read_file(path, uint64_t(1) << 30);
  return decode_image(bytes, path, options);
}

}  // namespace glassbox::data
