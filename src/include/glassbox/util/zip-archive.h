// The zip container that PyTorch's checkpoints and TorchScript files use, read and checked by glassbox
// before libtorch sees a byte of it. libtorch 1.13's own reader trusts the container and its parsers
// crash on damaged content, so everything a zip declares is checked here against the real bytes:
// end records, central directory, each local header against its directory entry, sizes, offsets,
// overlaps, and every entry's CRC-32. Free of libtorch (fuzzed on its own).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace glassbox {

struct ZipEntry {
  std::string name;
  uint16_t method = 0;           // 0 stored, 8 deflated
  uint32_t crc32 = 0;
  uint64_t compressed_size = 0;
  uint64_t size = 0;             // uncompressed
  uint64_t header_offset = 0;    // of its local header
  uint64_t data_offset = 0;      // of its (compressed) data
};

struct ZipLimits {
  uint64_t max_entries = 1 << 16;
  uint64_t max_entry_bytes = uint64_t(16) << 30;  // uncompressed, per entry
  uint64_t max_total_bytes = uint64_t(16) << 30;  // uncompressed, all entries together
  uint64_t max_name_bytes = 4096;
};

class ZipArchive {
 public:
  // Parses and checks `bytes` (which must outlive the archive). `name` appears in errors, which are
  // glassbox::Error, one line, naming what is wrong and where. Deflated entries are inflated in
  // pieces of 64 KiB to check their CRC, so checking allocates nothing a size field declares.
  ZipArchive(std::string_view bytes, std::string name, const ZipLimits& limits = {});

  const std::vector<ZipEntry>& entries() const { return entries_; }
  // The entry called `name`, or nullptr.
  const ZipEntry* find(std::string_view name) const;
  // An entry's content (inflated if need be).
  std::string read(const ZipEntry& entry) const;
  // The stored bytes of a stored entry, without a copy.
  std::string_view stored(const ZipEntry& entry) const;

  // The folder all entries share in PyTorch's archives ("archive/" for a model saved as archive.pt),
  // with its slash; empty when the first entry is not in a folder.
  std::string prefix() const;

  std::string_view comment() const { return comment_; }
  // Where the archive comment starts: the bytes before it are everything else in the file.
  uint64_t comment_offset() const { return comment_offset_; }
  uint64_t central_directory_offset() const { return cd_offset_; }
  uint64_t central_directory_size() const { return cd_size_; }

 private:
  std::string_view bytes_;
  std::string name_;
  std::vector<ZipEntry> entries_;
  std::string_view comment_;
  uint64_t comment_offset_ = 0, cd_offset_ = 0, cd_size_ = 0;
};

// A new archive: `archive`'s entries, then `added` (name, content) stored uncompressed, and `comment`
// as the archive comment (at most 65,535 bytes). Throws glassbox::Error for archives of 4 GiB or more.
std::string zip_append(const ZipArchive& archive, std::string_view bytes,
                       const std::vector<std::pair<std::string, std::string>>& added, std::string_view comment);

}  // namespace glassbox
