// Reading a whole file into memory with a bound, so that no file can make glassbox allocate more than
// its real size, and no size is taken from a header before it is checked against the file.
#pragma once

#include <cstdint>
#include <string>

namespace glassbox {

// The largest file read whole unless a caller asks for more: 16 GiB.
constexpr uint64_t kDefaultMaxFileBytes = uint64_t(16) << 30;

// Reads the regular file at `path` (symbolic links are followed: reading through them is safe).
// Throws glassbox::Error naming the path when it is missing, not a regular file, larger than
// `max_bytes`, or cannot be read completely.
std::string read_file(const std::string& path, uint64_t max_bytes = kDefaultMaxFileBytes);

// The first `max_bytes` bytes of the regular file at `path` (all of it when it is shorter): for headers.
std::string read_file_prefix(const std::string& path, uint64_t max_bytes);

// A regular file read piece by piece, for formats read record by record: memory follows what the
// records declare once each declaration is checked against the file's size, never the file's size.
class FileReader {
 public:
  // Opens `path` (errors as read_file's).
  explicit FileReader(const std::string& path);
  ~FileReader();
  FileReader(const FileReader&) = delete;
  FileReader& operator=(const FileReader&) = delete;

  // The file's size when it was opened.
  uint64_t size() const { return size_; }
  // The `n` bytes at `offset`, which must lie within size(); throws glassbox::Error naming the path
  // when they cannot be read (the file shrank, or an I/O error).
  std::string read_at(uint64_t offset, size_t n) const;

 private:
  std::string path_;
  int fd_ = -1;
  uint64_t size_ = 0;
};

}  // namespace glassbox
