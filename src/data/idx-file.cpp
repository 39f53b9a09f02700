// Reading IDX files from disk, raw or gzipped (the .gz files Debian and MNIST ship).
#include <zlib.h>

#include <cstring>

#include "glassbox/data/idx.h"
#include "glassbox/util/error.h"
#include "glassbox/util/file-bytes.h"

namespace glassbox::data {
namespace {

// The largest .gz file read: 4 GiB (deflate's ratio caps what it may hold at about 1032 times that).
constexpr uint64_t kMaxCompressedBytes = uint64_t(4) << 30;
constexpr uint64_t kMaxDeflateRatio = 1032;

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Inflates gzip data (members concatenated) on demand into a buffer that grows only as output arrives.
class Gunzip {
 public:
  Gunzip(const std::string& compressed, const std::string& path) : in_(compressed), path_(path) {
    GLASSBOX_CHECK(inflateInit2(&s_, 16 + MAX_WBITS) == Z_OK, path, ": cannot start inflating");
    s_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in_.data()));
    left_ = in_.size();
  }
  ~Gunzip() { inflateEnd(&s_); }
  Gunzip(const Gunzip&) = delete;
  Gunzip& operator=(const Gunzip&) = delete;

  // Appends up to `n` more bytes to `out`; returns how many came (fewer only at the end of the data).
  size_t read(std::vector<uint8_t>& out, uint64_t n) {
    size_t got = 0;
    while (got < n && !(ended_ && left_ == 0)) {
      if (ended_) {  // another gzip member follows
        GLASSBOX_CHECK(inflateReset(&s_) == Z_OK, path_, ": corrupt gzip data");
        ended_ = false;
      }
      const size_t chunk = static_cast<size_t>(std::min<uint64_t>(n - got, 1 << 20));
      const size_t at = out.size();
      out.resize(at + chunk);
      s_.next_out = out.data() + at;
      s_.avail_out = static_cast<uInt>(chunk);
      s_.avail_in = static_cast<uInt>(std::min<uint64_t>(left_, 1u << 30));
      const uInt offered = s_.avail_in;
      const int rc = inflate(&s_, Z_NO_FLUSH);
      left_ -= offered - s_.avail_in;
      const size_t made = chunk - s_.avail_out;
      out.resize(at + made);
      got += made;
      if (rc == Z_STREAM_END) {
        ended_ = true;
        continue;
      }
      GLASSBOX_CHECK(rc == Z_OK || (rc == Z_BUF_ERROR && made > 0), path_, ": corrupt gzip data (",
                     s_.msg ? s_.msg : (left_ == 0 ? "truncated" : "inflate failed"), ")");
    }
    return got;
  }

 private:
  const std::string& in_;
  std::string path_;
  z_stream s_{};
  uint64_t left_ = 0;
  bool ended_ = false;
};

IdxArray read_gzipped_idx(const std::string& path, IdxKind kind) {
  const std::string compressed = read_file(path, kMaxCompressedBytes);
  Gunzip gz(compressed, path);
  std::vector<uint8_t> bytes;
  gz.read(bytes, 4);
  if (bytes.size() == 4) gz.read(bytes, 4 * uint64_t(bytes[3]));
  const IdxHeader h = parse_idx_header(bytes.data(), bytes.size(), path, kind);
  GLASSBOX_CHECK(h.total_bytes <= compressed.size() * kMaxDeflateRatio + 64, path, ": its header declares ",
                 h.total_bytes, " bytes, more than ", compressed.size(), " bytes of gzip data can hold");
  gz.read(bytes, h.total_bytes - bytes.size());
  GLASSBOX_CHECK(bytes.size() == h.total_bytes, path, ": ", bytes.size(), " bytes inflated, but its header says ",
                 h.total_bytes, " (truncated)");
  std::vector<uint8_t> extra;
  GLASSBOX_CHECK(gz.read(extra, 1) == 0, path, ": more data than its header declares (", h.total_bytes, " bytes)");
  return parse_idx(bytes.data(), bytes.size(), path, kind);
}

}  // namespace

IdxArray read_idx_file(const std::string& path, IdxKind kind) {
  if (ends_with(path, ".gz")) return read_gzipped_idx(path, kind);
  const std::string bytes = read_file(path, kMaxIdxBytes);
  return parse_idx(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), path, kind);
}

}  // namespace glassbox::data
