#include "glassbox/train/csv-logger.h"

#include <cerrno>
#include <cstring>

#include "glassbox/util/error.h"

namespace glassbox::train {

CsvLogger::CsvLogger(const std::string& path) : path_(path) {
  file_ = std::fopen(path.c_str(), "w");
  GLASSBOX_CHECK(file_ != nullptr, path, ": cannot write metrics (", std::strerror(errno), ")");
  std::setvbuf(file_, nullptr, _IOFBF, 1 << 16);  // rows reach the disk at flush(), once an epoch
  std::fputs("step,name,value\n", file_);
}

CsvLogger::~CsvLogger() {
  if (file_) std::fclose(file_);
}

void CsvLogger::log_metrics(const std::map<std::string, double>& metrics, int64_t step) {
  for (const auto& [name, value] : metrics)
    std::fprintf(file_, "%lld,%s,%.9g\n", static_cast<long long>(step), name.c_str(), value);
}

void CsvLogger::flush() { std::fflush(file_); }

}  // namespace glassbox::train
