// Where the callbacks' figures go: TensorBoard (images and scalars at the global step) when a writer
// is given, otherwise PNG/GIF files (and a scalars CSV) under a directory.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "glassbox/tensorboard/summary-writer.h"
#include "glassbox/train/csv-logger.h"

namespace glassbox::callbacks {

class FigureSink {
 public:
  // One of the two: a writer, or a directory for files (created on first use).
  FigureSink(std::shared_ptr<tensorboard::SummaryWriter> writer, std::string directory);
  ~FigureSink();

  // PNG or GIF bytes; the size is read from the bytes' header.
  void image(const std::string& tag, const std::string& encoded, int64_t step, const std::string& description = "");
  void scalar(const std::string& tag, double value, int64_t step);
  void flush();

  bool to_tensorboard() const { return writer_ != nullptr; }
  const std::string& directory() const { return directory_; }

 private:
  std::shared_ptr<tensorboard::SummaryWriter> writer_;
  std::string directory_;
  std::mutex mutex_;
  std::unique_ptr<train::CsvLogger> scalars_;
  int64_t files_ = 0;
};

// Width and height from a PNG's IHDR or a GIF's logical screen descriptor; false if neither.
bool encoded_image_size(const std::string& bytes, int& width, int& height);

}  // namespace glassbox::callbacks
