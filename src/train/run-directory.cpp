#include "glassbox/train/run-directory.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <thread>

#include "glassbox/util/atomic-file.h"
#include "glassbox/util/error.h"

namespace fs = std::filesystem;

namespace glassbox::train {
namespace {

constexpr const char* kLockName = ".glassbox-run.lock";

// What the lock file says about its holder, bounded and printable. A holder that has just taken the
// lock writes who it is right after: wait for that a little (up to 100 ms) before giving up on it.
std::string holder_of(int fd) {
  char buf[256];
  ssize_t n = 0;
  for (int attempt = 0; attempt < 10 && (n = ::pread(fd, buf, sizeof buf, 0)) <= 0; ++attempt)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  if (n <= 0) return "another glassbox run";
  std::string text(buf, static_cast<size_t>(n));
  return printable_excerpt(text.substr(0, text.find('\n')), 160);
}

bool holds_a_run(const fs::path& dir) {
  std::error_code ec;
  if (fs::exists(dir / "metrics.csv", ec) || fs::exists(dir / "checkpoints" / "last.ckpt", ec)) return true;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->path().filename().string().find("tfevents") != std::string::npos) return true;
  return false;
}

}  // namespace

RunDirectory::RunDirectory(const std::string& dir, bool resuming, const std::string& flag) : dir_(dir) {
  ensure_writable_directory(dir);
  const std::string lock_path = (fs::path(dir) / kLockName).string();
  lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
  GLASSBOX_CHECK(lock_fd_ >= 0, flag, " ", dir, ": cannot create ", kLockName, " (", std::strerror(errno), ")");
  // The holder's name is written into the lock file: a hard link planted there would have another
  // file truncated and overwritten, so the lock must be a regular file with no other name.
  struct stat st {};
  if (::fstat(lock_fd_, &st) != 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1) {
    const auto links = static_cast<unsigned long>(st.st_nlink);
    ::close(lock_fd_);
    lock_fd_ = -1;
    throw Error(flag + " " + dir + ": " + kLockName + " is not a plain file of its own (" + std::to_string(links) +
                " names); remove it, or choose another " + flag);
  }
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    const std::string holder = holder_of(lock_fd_);
    ::close(lock_fd_);
    lock_fd_ = -1;
    throw Error(flag + " " + dir + ": in use by " + holder + "; wait for it, or choose another " + flag);
  }
  if (!resuming && holds_a_run(dir)) {
    ::close(lock_fd_);
    lock_fd_ = -1;
    const fs::path last = fs::path(dir) / "checkpoints" / "last.ckpt";
    std::error_code ec;
    if (fs::exists(last, ec))
      throw Error(flag + " " + dir + ": holds an earlier run; resume it from " + last.string() + ", or choose another " + flag);
    // Stopped before its first checkpoint: there is nothing to resume, and what it wrote is partial.
    throw Error(flag + " " + dir + ": holds an earlier run that stopped before its first checkpoint, so it cannot be "
                "resumed; delete that directory to start over, or choose another " + flag);
  }
  char host[256] = "?";
  ::gethostname(host, sizeof host - 1);
  const std::time_t now = std::time(nullptr);
  char when[64];
  std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", std::localtime(&now));
  const std::string who = "glassbox run pid " + std::to_string(::getpid()) + " on " + host + ", started " + when + "\n";
  if (::ftruncate(lock_fd_, 0) == 0) {
    const ssize_t written = ::pwrite(lock_fd_, who.data(), who.size(), 0);
    (void)written;  // the holder's description is informative only
  }
}

RunDirectory::~RunDirectory() {
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the lock
}

}  // namespace glassbox::train
