// Figures as files, for runs without TensorBoard: DIR/<tag>/step<step>-<n>.png (or .gif), a folder per
// tag ('/' and spaces in tags become '_'). Metrics are left to the other loggers.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>

#include "glassbox/train/logger.h"

namespace glassbox::train {

class ImageFileLogger : public Logger {
 public:
  // `directory` is created at the first figure. Files are written beside and renamed; a tag folder
  // that is a symbolic link is refused (glassbox::Error naming it), never written through.
  explicit ImageFileLogger(std::string directory);

  void log_metrics(const std::map<std::string, double>&, int64_t) override {}
  void log_image(const std::string& tag, const std::string& encoded, int64_t step,
                 const std::string& description = "") override;
  const std::string& directory() const { return directory_; }

 private:
  std::string directory_;
  std::mutex mutex_;
  int64_t files_ = 0;
};

}  // namespace glassbox::train
