// Several loggers as one: what the Trainer and its callbacks log to.
#pragma once

#include <memory>
#include <vector>

#include "glassbox/train/logger.h"

namespace glassbox::train {

class LoggerList : public Logger {
 public:
  LoggerList() = default;
  explicit LoggerList(std::vector<std::shared_ptr<Logger>> loggers) : loggers_(std::move(loggers)) {}
  void add(std::shared_ptr<Logger> logger) { loggers_.push_back(std::move(logger)); }  // before logging starts
  bool empty() const { return loggers_.empty(); }

  void log_metrics(const std::map<std::string, double>& metrics, int64_t step) override;
  void log_image(const std::string& tag, const std::string& encoded, int64_t step,
                 const std::string& description = "") override;
  void flush() override;
  bool records() const override;  // true when any of them does

 private:
  std::vector<std::shared_ptr<Logger>> loggers_;
};

}  // namespace glassbox::train
