#include "glassbox/train/console-logger.h"

#include <fmt/format.h>

#include <string>

namespace glassbox::train {

void ConsoleLogger::log_metrics(const std::map<std::string, double>& metrics, int64_t step) {
  std::string line;
  for (const auto& [name, value] : metrics) {
    if (name.size() > 5 && name.compare(name.size() - 5, 5, "_step") == 0) continue;
    line += fmt::format("{}{} {:.4f}", line.empty() ? "" : "  ", name, value);
  }
  if (!line.empty()) std::fprintf(out_, "step %lld: %s\n", static_cast<long long>(step), line.c_str());
}

void ConsoleLogger::flush() { std::fflush(out_); }

}  // namespace glassbox::train
