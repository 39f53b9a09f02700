// Epoch-level metrics printed as one line each (per-step metrics are left to the progress bar).
#pragma once

#include <cstdio>

#include "glassbox/train/logger.h"

namespace glassbox::train {

class ConsoleLogger : public Logger {
 public:
  explicit ConsoleLogger(std::FILE* out = stdout) : out_(out) {}
  // Prints metrics whose names do not end in "_step" (those arrive every batch).
  void log_metrics(const std::map<std::string, double>& metrics, int64_t step) override;
  void flush() override;

 private:
  std::FILE* out_;
};

}  // namespace glassbox::train
