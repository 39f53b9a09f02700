// Reading IDX files from disk, with transparent gunzip for the .gz files Debian and MNIST ship.
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "glassbox/data/idx.h"
#include "glassbox/util/error.h"

namespace glassbox::data {
namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::vector<uint8_t> gunzip_file(const std::string& path) {
  gzFile file = gzopen(path.c_str(), "rb");
  GLASSBOX_CHECK(file != nullptr, path, ": cannot open (", std::strerror(errno), ")");
  gzbuffer(file, 1 << 18);
  std::vector<uint8_t> out;
  std::vector<uint8_t> chunk(1 << 20);
  for (;;) {
    const int n = gzread(file, chunk.data(), static_cast<unsigned>(chunk.size()));
    if (n < 0) {
      int code = 0;
      const std::string message = gzerror(file, &code);
      gzclose(file);
      throw Error(path + ": corrupt gzip data (" + message + ")");
    }
    if (n == 0) break;
    out.insert(out.end(), chunk.begin(), chunk.begin() + n);
  }
  // gzread returns 0 for a stream cut short without an error: check the end was reached cleanly.
  int code = 0;
  const char* message = gzerror(file, &code);
  const std::string why = message ? message : "";
  gzclose(file);
  GLASSBOX_CHECK(code == Z_OK || code == Z_STREAM_END, path, ": corrupt gzip data (", why, ")");
  return out;
}

}  // namespace

std::vector<uint8_t> read_file_bytes(const std::string& path) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  GLASSBOX_CHECK(!ec && std::filesystem::exists(status), path, ": no such file");
  GLASSBOX_CHECK(std::filesystem::is_regular_file(status), path, ": not a regular file");
  std::ifstream probe(path, std::ios::binary);
  GLASSBOX_CHECK(probe.good(), path, ": cannot open (", std::strerror(errno), ")");
  if (ends_with(path, ".gz")) return gunzip_file(path);
  probe.seekg(0, std::ios::end);
  const std::streamoff size = probe.tellg();
  GLASSBOX_CHECK(size >= 0, path, ": cannot read (not a regular file?)");
  probe.seekg(0);
  std::vector<uint8_t> bytes(static_cast<size_t>(size));
  probe.read(reinterpret_cast<char*>(bytes.data()), size);
  GLASSBOX_CHECK(probe.gcount() == size, path, ": short read");
  return bytes;
}

IdxArray read_idx_file(const std::string& path, IdxKind kind) {
  const std::vector<uint8_t> bytes = read_file_bytes(path);
  return parse_idx(bytes.data(), bytes.size(), path, kind);
}

}  // namespace glassbox::data
