#include "glassbox/train/logger-list.h"

namespace glassbox::train {

void LoggerList::log_metrics(const std::map<std::string, double>& metrics, int64_t step) {
  for (auto& logger : loggers_) logger->log_metrics(metrics, step);
}

void LoggerList::log_image(const std::string& tag, const std::string& encoded, int64_t step,
                           const std::string& description) {
  for (auto& logger : loggers_) logger->log_image(tag, encoded, step, description);
}

void LoggerList::flush() {
  for (auto& logger : loggers_) logger->flush();
}

bool LoggerList::records() const {
  for (const auto& logger : loggers_)
    if (logger->records()) return true;
  return false;
}

}  // namespace glassbox::train
