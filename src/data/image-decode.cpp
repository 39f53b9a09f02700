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

DecodedImage read_image_file(const std::string& path, const DecodeOptions& options) {
  // An image file larger than 1 GiB is not one glassbox decodes (the pixel limit alone is ~256 MB of RGB).
  const std::string bytes = read_file(path, uint64_t(1) << 30);
  return decode_png(bytes, path, options);
}

}  // namespace glassbox::data
