// Metrics as CSV rows `step,name,value`: one row per scalar, easy to load in any tool.
#pragma once

#include <cstdio>
#include <string>

#include "glassbox/train/logger.h"

namespace glassbox::train {

class CsvLogger : public Logger {
 public:
  // Creates (truncates) `path`; throws glassbox::Error naming it when it cannot.
  explicit CsvLogger(const std::string& path);
  ~CsvLogger() override;
  CsvLogger(const CsvLogger&) = delete;
  CsvLogger& operator=(const CsvLogger&) = delete;

  void log_metrics(const std::map<std::string, double>& metrics, int64_t step) override;
  void flush() override;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
};

}  // namespace glassbox::train
