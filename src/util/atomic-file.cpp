#include "glassbox/util/atomic-file.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "glassbox/util/error.h"

namespace fs = std::filesystem;

namespace glassbox {

void write_file_atomically(const std::string& path, const std::string& bytes) {
  static std::atomic<unsigned> counter{0};
  const std::string tmp = path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  GLASSBOX_CHECK(fd >= 0, path, ": cannot write (", std::strerror(errno), ")");
  size_t done = 0;
  int err = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      err = errno;
      break;
    }
    done += static_cast<size_t>(n);
  }
  if (err == 0 && ::fsync(fd) != 0) err = errno;
  if (::close(fd) != 0 && err == 0) err = errno;
  if (err == 0 && ::rename(tmp.c_str(), path.c_str()) != 0) err = errno;
  if (err != 0) {
    ::unlink(tmp.c_str());
    throw Error(path + ": cannot write (" + std::strerror(err) + ")");
  }
  // Make the rename itself durable.
  std::string dir = fs::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

void ensure_writable_directory(const std::string& dir) {
  std::error_code ec;
  // A link planted where glassbox keeps its output (LOGDIR/checkpoints -> elsewhere) would send every
  // later write through it: the directory itself must be one, not a link to one.
  GLASSBOX_CHECK(!fs::is_symlink(fs::symlink_status(dir, ec)), dir,
                 ": a symbolic link; glassbox writes only into real directories (remove the link, or give its target)");
  fs::create_directories(dir, ec);
  GLASSBOX_CHECK(!ec, dir, ": cannot create directory (", ec.message(), ")");
  GLASSBOX_CHECK(fs::is_directory(dir), dir, ": not a directory");
  GLASSBOX_CHECK(::access(dir.c_str(), W_OK | X_OK) == 0, dir, ": directory is not writable (",
                 std::strerror(errno), ")");
}

}  // namespace glassbox
