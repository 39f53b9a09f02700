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

}  // namespace glassbox
