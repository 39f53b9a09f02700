#include "glassbox/train/image-file-logger.h"

#include <filesystem>

#include "glassbox/render/encoded-size.h"
#include "glassbox/util/atomic-file.h"
#include "glassbox/util/error.h"

namespace glassbox::train {

ImageFileLogger::ImageFileLogger(std::string directory) : directory_(std::move(directory)) {
  GLASSBOX_CHECK(!directory_.empty(), "ImageFileLogger: directory is empty");
}

void ImageFileLogger::log_image(const std::string& tag, const std::string& encoded, int64_t step, const std::string&) {
  int width = 0, height = 0;
  GLASSBOX_CHECK(render::encoded_image_size(encoded, width, height), "figure ", tag, ": not PNG or GIF bytes");
  std::string folder = tag;
  for (char& c : folder)
    if (c == '/' || c == ' ') c = '_';
  const std::filesystem::path dir = std::filesystem::path(directory_) / folder;
  std::lock_guard<std::mutex> lock(mutex_);
  GLASSBOX_CHECK(!std::filesystem::is_symlink(directory_) && !std::filesystem::is_symlink(dir), dir.string(),
                 ": a symbolic link, which glassbox does not write through");
  ensure_writable_directory(dir.string());
  char name[64];
  std::snprintf(name, sizeof name, "step%08lld-%04lld%s", static_cast<long long>(step), static_cast<long long>(files_++),
                encoded.compare(0, 3, "GIF") == 0 ? ".gif" : ".png");
  write_file_atomically((dir / name).string(), encoded);
}

}  // namespace glassbox::train
