#include "glassbox/callbacks/figure-sink.h"

#include <filesystem>

#include "glassbox/util/atomic-file.h"
#include "glassbox/util/error.h"

namespace glassbox::callbacks {

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

FigureSink::FigureSink(std::shared_ptr<tensorboard::SummaryWriter> writer, std::string directory)
    : writer_(std::move(writer)), directory_(std::move(directory)) {
  GLASSBOX_CHECK(writer_ || !directory_.empty(), "figures: neither a TensorBoard writer nor a directory to write to");
}

FigureSink::~FigureSink() = default;

void FigureSink::image(const std::string& tag, const std::string& encoded, int64_t step, const std::string& description) {
  int w = 0, h = 0;
  GLASSBOX_CHECK(encoded_image_size(encoded, w, h), "figure ", tag, ": not PNG or GIF bytes");
  if (writer_) {
    writer_->add_image_encoded(tag, encoded, h, w, 3, step, {"", description});
    return;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  std::string safe = tag;
  for (char& c : safe)
    if (c == '/' || c == ' ') c = '_';
  const bool gif = encoded.compare(0, 3, "GIF") == 0;
  const std::filesystem::path dir = std::filesystem::path(directory_) / safe;
  ensure_writable_directory(dir.string());
  char name[64];
  std::snprintf(name, sizeof name, "step%08lld-%04lld%s", static_cast<long long>(step), static_cast<long long>(files_++),
                gif ? ".gif" : ".png");
  write_file_atomically((dir / name).string(), encoded);
}

void FigureSink::scalar(const std::string& tag, double value, int64_t step) {
  if (writer_) {
    writer_->add_scalar(tag, value, step);
    return;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  if (!scalars_) {
    ensure_writable_directory(directory_);
    scalars_ = std::make_unique<train::CsvLogger>((std::filesystem::path(directory_) / "callback-scalars.csv").string());
  }
  scalars_->log_metrics({{tag, value}}, step);
}

void FigureSink::flush() {
  if (writer_) writer_->flush();
  std::lock_guard<std::mutex> lock(mutex_);
  if (scalars_) scalars_->flush();
}

}  // namespace glassbox::callbacks
