// Metrics as CSV rows `step,name,value`: one row per scalar, easy to load in any tool.
#pragma once

#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>

#include "glassbox/train/logger.h"

namespace glassbox::train {

class CsvLogger : public Logger {
 public:
  // Starts `path` afresh; or, with `resume_after_step` >= 0, keeps the rows of an existing file up to
  // that step (a resumed run's checkpoint step: later rows belonged to the interrupted run, as
  // TensorBoard purges orphaned steps) and appends. The file is never opened through a symbolic
  // link. Throws glassbox::Error naming the path when it cannot.
  explicit CsvLogger(const std::string& path, int64_t resume_after_step = -1);
  ~CsvLogger() override;
  CsvLogger(const CsvLogger&) = delete;
  CsvLogger& operator=(const CsvLogger&) = delete;

  void log_metrics(const std::map<std::string, double>& metrics, int64_t step) override;
  void flush() override;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::mutex mutex_;
  std::FILE* file_ = nullptr;
};

}  // namespace glassbox::train
