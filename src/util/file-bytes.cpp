#include "glassbox/util/file-bytes.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>

#include "glassbox/util/error.h"

namespace glassbox {
namespace {

// Closes a descriptor on every path out of opening, unless it is handed on.
struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// Opens `path` for reading and checks it is a regular file; returns its size.
uint64_t open_regular(const std::string& path, Fd& f) {
  // O_NONBLOCK: opening a FIFO (a named pipe planted as an image) must not wait for a writer.
  f.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (f.fd < 0) {
    const int err = errno;
    GLASSBOX_CHECK(err != ENOENT, path, ": no such file");
    throw Error(path + ": cannot open (" + std::strerror(err) + ")");
  }
  struct stat st {};
  GLASSBOX_CHECK(::fstat(f.fd, &st) == 0, path, ": cannot stat (", std::strerror(errno), ")");
  GLASSBOX_CHECK(S_ISREG(st.st_mode), path, ": not a regular file");
  return static_cast<uint64_t>(st.st_size);
}

}  // namespace

std::string read_file(const std::string& path, uint64_t max_bytes) {
  const FileReader file(path);
  GLASSBOX_CHECK(file.size() <= max_bytes, path, ": ", file.size(), " bytes, more than the ", max_bytes,
                 " this reader accepts");
  return file.read_at(0, static_cast<size_t>(file.size()));
}

std::string read_file_prefix(const std::string& path, uint64_t max_bytes) {
  const FileReader file(path);
  return file.read_at(0, static_cast<size_t>(std::min(file.size(), max_bytes)));
}

FileReader::FileReader(const std::string& path) : path_(path) {
  Fd f{-1};
  size_ = open_regular(path, f);
  fd_ = f.fd;
  f.fd = -1;
}

FileReader::~FileReader() {
  if (fd_ >= 0) ::close(fd_);
}

std::string FileReader::read_at(uint64_t offset, size_t n) const {
  GLASSBOX_CHECK(offset <= size_ && n <= size_ - offset, path_, ": ", n, " bytes at ", offset, " lie past its ", size_,
                 " bytes");
  std::string bytes(n, '\0');
  size_t done = 0;
  while (done < n) {
    const ssize_t got = ::pread(fd_, bytes.data() + done, n - done, static_cast<off_t>(offset + done));
    if (got < 0 && errno == EINTR) continue;
    GLASSBOX_CHECK(got >= 0, path_, ": cannot read (", std::strerror(errno), ")");
    GLASSBOX_CHECK(got > 0, path_, ": file shrank while being read (", offset + done, " of ", size_, " bytes)");
    done += static_cast<size_t>(got);
  }
  return bytes;
}

}  // namespace glassbox
