#include "glassbox/train/csv-logger.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>

#include "glassbox/util/atomic-file.h"
#include "glassbox/util/error.h"

namespace glassbox::train {
namespace {

constexpr const char* kHeader = "step,name,value";

// The rows of an earlier metrics file up to `last_step`, read without following a link.
std::string rows_until(const std::string& path, int64_t last_step) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) return std::string(kHeader) + "\n";
  GLASSBOX_CHECK(fd >= 0, path, ": cannot read metrics (", std::strerror(errno), ")");
  std::string text;
  char buf[1 << 16];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0 && text.size() < (size_t(1) << 30);) text.append(buf, size_t(n));
  ::close(fd);
  std::istringstream in(text);
  std::string line, out;
  GLASSBOX_CHECK(std::getline(in, line) && line == kHeader, path, ": not a glassbox metrics file (first line is not '",
                 kHeader, "')");
  out = line + "\n";
  while (std::getline(in, line)) {
    char* end = nullptr;
    const long long step = std::strtoll(line.c_str(), &end, 10);
    if (end != line.c_str() && *end == ',' && step <= last_step) out += line + "\n";  // a torn last line is dropped
  }
  return out;
}

}  // namespace

CsvLogger::CsvLogger(const std::string& path, int64_t resume_after_step) : path_(path) {
  int fd;
  if (resume_after_step >= 0) {
    write_file_atomically(path, rows_until(path, resume_after_step));
    fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
  } else {
    fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
  }
  GLASSBOX_CHECK(fd >= 0, path, ": cannot write metrics (", std::strerror(errno),
                 errno == ELOOP ? ": a symbolic link, which glassbox does not write through)" : ")");
  file_ = ::fdopen(fd, "a");
  if (file_ == nullptr) {
    ::close(fd);
    throw Error(path + ": cannot write metrics");
  }
  std::setvbuf(file_, nullptr, _IOFBF, 1 << 16);  // rows reach the disk at flush(), once an epoch
  if (resume_after_step < 0) std::fprintf(file_, "%s\n", kHeader);
}

CsvLogger::~CsvLogger() {
  if (file_) std::fclose(file_);
}

void CsvLogger::log_metrics(const std::map<std::string, double>& metrics, int64_t step) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& [name, value] : metrics)
    std::fprintf(file_, "%lld,%s,%.9g\n", static_cast<long long>(step), name.c_str(), value);
}

void CsvLogger::flush() {
  std::lock_guard<std::mutex> lock(mutex_);
  std::fflush(file_);
}

}  // namespace glassbox::train
