// Zip's layout (APPNOTE.TXT): local header + data (+ data descriptor) per entry, then the central
// directory, then (zip64) the zip64 end record and its locator, then the end record with the comment.
#include "glassbox/util/zip-archive.h"

#include <zlib.h>

#include <algorithm>
#include <limits>
#include <set>

#include "glassbox/util/error.h"

namespace glassbox {
namespace {

constexpr uint32_t kLocalSig = 0x04034b50, kCentralSig = 0x02014b50, kEndSig = 0x06054b50;
constexpr uint32_t kZip64EndSig = 0x06064b50, kZip64LocatorSig = 0x07064b50, kDescriptorSig = 0x08074b50;
constexpr size_t kLocalSize = 30, kCentralSize = 46, kEndSize = 22, kZip64LocatorSize = 20, kZip64EndSize = 56;
constexpr uint16_t kFlagEncrypted = 1, kFlagDescriptor = 8;
// Deflate cannot expand data more than about 1032:1; a size declared beyond that is a lie.
constexpr uint64_t kMaxDeflateRatio = 1032;

uint64_t le(std::string_view b, uint64_t at, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(b[at + static_cast<uint64_t>(i)]);
  return v;
}

void put_le(std::string& out, uint64_t v, int n) {
  for (int i = 0; i < n; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

std::string quoted(std::string_view s) { return "'" + printable_excerpt(s, 80) + "'"; }

uint32_t crc_of(std::string_view data) {
  return static_cast<uint32_t>(crc32_z(crc32_z(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(data.data()), data.size()));
}

// Inflates raw deflate data that must come to exactly `size` bytes, handing the output to `sink` in
// pieces of at most 64 KiB: memory stays bounded by what the caller keeps, never by a declared size.
// False (with `why`) when the data is damaged, ends early, goes on past `size` or leaves input over.
template <typename Sink>
bool inflate_exact(std::string_view in, uint64_t size, Sink&& sink, std::string& why) {
  z_stream s{};
  if (inflateInit2(&s, -MAX_WBITS) != Z_OK) {
    why = "cannot start inflating";
    return false;
  }
  unsigned char buffer[1 << 16];
  const Bytef* next_in = reinterpret_cast<const Bytef*>(in.data());
  uint64_t in_left = in.size(), produced = 0;
  int rc = Z_OK;
  while (rc == Z_OK && produced <= size) {
    s.next_in = const_cast<Bytef*>(next_in);
    s.avail_in = static_cast<uInt>(std::min<uint64_t>(in_left, 1u << 30));
    s.next_out = buffer;
    s.avail_out = sizeof buffer;
    const uInt offered_in = s.avail_in;
    rc = inflate(&s, Z_NO_FLUSH);
    const uint64_t used = offered_in - s.avail_in, made = sizeof buffer - s.avail_out;
    next_in += used, in_left -= used;
    // One byte past the declared size is enough to know the stream lies; nothing past it is kept.
    if (produced < size) sink(reinterpret_cast<const char*>(buffer), static_cast<size_t>(std::min<uint64_t>(made, size - produced)));
    produced += made;
    if (rc == Z_OK && used == 0 && made == 0) rc = Z_BUF_ERROR;  // stuck: the input is exhausted
  }
  inflateEnd(&s);
  if (produced > size) {
    why = "inflates to more than its declared " + std::to_string(size) + " bytes";
  } else if (rc == Z_DATA_ERROR || rc == Z_NEED_DICT) {
    why = "corrupt deflate data";
  } else if (rc != Z_STREAM_END) {
    why = "deflate data ends after " + std::to_string(produced) + " of its declared " + std::to_string(size) + " bytes";
  } else if (produced != size) {
    why = "inflates to " + std::to_string(produced) + " bytes, declared " + std::to_string(size);
  } else if (in_left != 0) {
    why = std::to_string(in_left) + " bytes of compressed data left after the deflate stream";
  } else {
    return true;
  }
  return false;
}

// The extra fields of a header: a list of (id, size, data) records that must fill it exactly. Fills in
// the zip64 values of the fields that are 0xFFFFFFFF, in the order APPNOTE gives.
struct Zip64Fields {
  uint64_t* size = nullptr;
  uint64_t* compressed = nullptr;
  uint64_t* offset = nullptr;
};

void parse_extra(std::string_view b, uint64_t at, uint64_t length, Zip64Fields z64, const std::string& where) {
  const uint64_t end = at + length;
  while (at < end) {
    GLASSBOX_CHECK(end - at >= 4, where, ": malformed extra field (", end - at, " stray bytes)");
    const uint64_t id = le(b, at, 2), n = le(b, at + 2, 2);
    at += 4;
    GLASSBOX_CHECK(n <= end - at, where, ": extra field 0x", std::hex, id, std::dec, " of ", n,
                   " bytes runs past its header");
    if (id == 0x0001) {
      uint64_t pos = at;
      for (uint64_t* field : {z64.size, z64.compressed, z64.offset}) {
        if (field == nullptr || *field != 0xFFFFFFFFu) continue;
        GLASSBOX_CHECK(pos + 8 <= at + n, where, ": zip64 extra field too short");
        *field = le(b, pos, 8);
        pos += 8;
      }
    }
    at += n;
  }
}

}  // namespace

ZipArchive::ZipArchive(std::string_view b, std::string name, const ZipLimits& limits)
    : bytes_(b), name_(std::move(name)) {
  const std::string& nm = name_;
  const uint64_t size = b.size();
  GLASSBOX_CHECK(size >= kEndSize, nm, ": ", size, " bytes, too short for a zip archive (a PyTorch file is one)");
  // The end record: the last place where its signature and its comment length account for the tail.
  uint64_t end = std::numeric_limits<uint64_t>::max();
  const uint64_t lowest = size > kEndSize + 0xFFFF ? size - kEndSize - 0xFFFF : 0;
  for (uint64_t p = size - kEndSize + 1; p-- > lowest;) {
    if (le(b, p, 4) == kEndSig && p + kEndSize + le(b, p + 20, 2) == size) {
      end = p;
      break;
    }
  }
  GLASSBOX_CHECK(end != std::numeric_limits<uint64_t>::max(), nm,
                 ": no zip end record (truncated, or not a zip archive such as PyTorch writes)");
  uint64_t disk = le(b, end + 4, 2), cd_disk = le(b, end + 6, 2);
  uint64_t count_disk = le(b, end + 8, 2), count = le(b, end + 10, 2);
  cd_size_ = le(b, end + 12, 4);
  cd_offset_ = le(b, end + 16, 4);
  comment_offset_ = end + kEndSize;
  comment_ = b.substr(static_cast<size_t>(comment_offset_));
  uint64_t cd_end_expected = end;
  if (end >= kZip64LocatorSize && le(b, end - kZip64LocatorSize, 4) == kZip64LocatorSig) {
    const uint64_t loc = end - kZip64LocatorSize;
    const uint64_t rec = le(b, loc + 8, 8);
    GLASSBOX_CHECK(le(b, loc + 4, 4) == 0 && le(b, loc + 16, 4) == 1, nm, ": multi-disk zip64 archives are not supported");
    GLASSBOX_CHECK(rec <= loc && loc - rec >= kZip64EndSize && le(b, rec, 4) == kZip64EndSig, nm,
                   ": zip64 end record missing at offset ", rec);
    const uint64_t rec_size = le(b, rec + 4, 8);
    GLASSBOX_CHECK(rec_size >= kZip64EndSize - 12 && rec_size == loc - rec - 12, nm, ": zip64 end record of ",
                   rec_size, " bytes does not reach its locator");
    const uint64_t d64 = le(b, rec + 16, 4), cdd64 = le(b, rec + 20, 4), cnt_disk64 = le(b, rec + 24, 8),
                   cnt64 = le(b, rec + 32, 8), cds64 = le(b, rec + 40, 8), cdo64 = le(b, rec + 48, 8);
    // The 16- and 32-bit fields are either saturated or equal to their zip64 versions.
    auto agrees = [](uint64_t narrow, uint64_t wide, uint64_t saturated) { return narrow == saturated || narrow == wide; };
    GLASSBOX_CHECK(agrees(disk, d64, 0xFFFF) && agrees(cd_disk, cdd64, 0xFFFF) && agrees(count_disk, cnt_disk64, 0xFFFF) &&
                       agrees(count, cnt64, 0xFFFF) && agrees(cd_size_, cds64, 0xFFFFFFFF) &&
                       agrees(cd_offset_, cdo64, 0xFFFFFFFF),
                   nm, ": the zip64 end record disagrees with the end record");
    disk = d64, cd_disk = cdd64, count_disk = cnt_disk64, count = cnt64, cd_size_ = cds64, cd_offset_ = cdo64;
    cd_end_expected = rec;
  }
  GLASSBOX_CHECK(disk == 0 && cd_disk == 0 && count_disk == count, nm, ": multi-disk zip archives are not supported");
  GLASSBOX_CHECK(count <= limits.max_entries, nm, ": ", count, " entries, more than the ", limits.max_entries, " accepted");
  GLASSBOX_CHECK(cd_offset_ <= cd_end_expected && cd_size_ == cd_end_expected - cd_offset_, nm,
                 ": central directory (offset ", cd_offset_, ", ", cd_size_, " bytes) does not end where the end record begins (",
                 cd_end_expected, ")");
  GLASSBOX_CHECK(count * kCentralSize <= cd_size_, nm, ": central directory of ", cd_size_, " bytes cannot hold ", count,
                 " entries");

  struct Extent {
    uint64_t begin, end;
    size_t entry;
  };
  std::vector<Extent> extents;
  std::set<std::string> names;
  uint64_t total_size = 0;
  entries_.reserve(static_cast<size_t>(count));
  uint64_t p = cd_offset_;
  const uint64_t cd_end = cd_offset_ + cd_size_;
  for (uint64_t i = 0; i < count; ++i) {
    const std::string where = nm + ": central directory entry " + std::to_string(i);
    GLASSBOX_CHECK(cd_end - p >= kCentralSize && le(b, p, 4) == kCentralSig, where, " is missing or damaged (offset ", p, ")");
    const uint64_t version_needed = le(b, p + 6, 2), flags = le(b, p + 8, 2), method = le(b, p + 10, 2),
                   mtime = le(b, p + 12, 2), mdate = le(b, p + 14, 2), name_len = le(b, p + 28, 2),
                   extra_len = le(b, p + 30, 2), comment_len = le(b, p + 32, 2), start_disk = le(b, p + 34, 2);
    ZipEntry e;
    e.crc32 = static_cast<uint32_t>(le(b, p + 16, 4));
    e.compressed_size = le(b, p + 20, 4);
    e.size = le(b, p + 24, 4);
    e.header_offset = le(b, p + 42, 4);
    e.method = static_cast<uint16_t>(method);
    GLASSBOX_CHECK(cd_end - p - kCentralSize >= name_len + extra_len + comment_len, where, " runs past the directory");
    GLASSBOX_CHECK(name_len >= 1 && name_len <= limits.max_name_bytes, where, ": name of ", name_len, " bytes");
    e.name.assign(b.substr(static_cast<size_t>(p + kCentralSize), static_cast<size_t>(name_len)));
    GLASSBOX_CHECK(e.name.find('\0') == std::string::npos, where, ": name contains a NUL byte");
    const std::string entry = nm + ": entry " + quoted(e.name);
    parse_extra(b, p + kCentralSize + name_len, extra_len, {&e.size, &e.compressed_size, &e.header_offset}, entry);
    GLASSBOX_CHECK(start_disk == 0 || start_disk == 0xFFFF, entry, ": on disk ", start_disk, ", expected one disk");
    GLASSBOX_CHECK((flags & kFlagEncrypted) == 0, entry, ": encrypted entries are not supported");
    GLASSBOX_CHECK(method == 0 || method == 8, entry, ": compression method ", method, ", expected 0 (stored) or 8 (deflate)");
    GLASSBOX_CHECK(method != 0 || e.size == e.compressed_size, entry, ": stored, but ", e.compressed_size,
                   " bytes hold ", e.size);
    GLASSBOX_CHECK(e.size <= limits.max_entry_bytes, entry, ": ", e.size, " bytes, more than the ", limits.max_entry_bytes,
                   " accepted");
    GLASSBOX_CHECK(method != 8 || e.size <= e.compressed_size * kMaxDeflateRatio + 64, entry, ": declares ", e.size,
                   " bytes from ", e.compressed_size, " compressed, more than deflate can produce");
    GLASSBOX_CHECK(names.insert(e.name).second, entry, ": appears twice");
    total_size += e.size;
    GLASSBOX_CHECK(total_size <= limits.max_total_bytes, nm, ": its entries declare more than ", limits.max_total_bytes,
                   " bytes in all (entry ", quoted(e.name), " reaches ", total_size, ")");
    p += kCentralSize + name_len + extra_len + comment_len;

    // Its local header must say the same.
    const uint64_t h = e.header_offset;
    GLASSBOX_CHECK(h < cd_offset_ && cd_offset_ - h >= kLocalSize && le(b, h, 4) == kLocalSig, entry,
                   ": no local header at offset ", h);
    const uint64_t l_name_len = le(b, h + 26, 2), l_extra_len = le(b, h + 28, 2);
    GLASSBOX_CHECK(le(b, h + 4, 2) == version_needed && le(b, h + 6, 2) == flags && le(b, h + 8, 2) == method &&
                       le(b, h + 10, 2) == mtime && le(b, h + 12, 2) == mdate,
                   entry, ": local header disagrees with the central directory");
    GLASSBOX_CHECK(cd_offset_ - h - kLocalSize >= l_name_len + l_extra_len && l_name_len == name_len &&
                       b.substr(static_cast<size_t>(h + kLocalSize), static_cast<size_t>(name_len)) == e.name,
                   entry, ": local header names another entry");
    uint64_t l_crc = le(b, h + 14, 4), l_csize = le(b, h + 18, 4), l_size = le(b, h + 22, 4);
    parse_extra(b, h + kLocalSize + l_name_len, l_extra_len, {&l_size, &l_csize, nullptr}, entry + " (local header)");
    if ((flags & kFlagDescriptor) == 0 || l_crc != 0 || l_csize != 0 || l_size != 0)
      GLASSBOX_CHECK(l_crc == e.crc32 && l_csize == e.compressed_size && l_size == e.size, entry,
                     ": local header's CRC or sizes disagree with the central directory");
    e.data_offset = h + kLocalSize + l_name_len + l_extra_len;
    GLASSBOX_CHECK(e.compressed_size <= cd_offset_ - e.data_offset, entry, ": its ", e.compressed_size,
                   " bytes of data run past the central directory");
    uint64_t entry_end = e.data_offset + e.compressed_size;
    if (flags & kFlagDescriptor) {
      // crc, compressed size, size, with or without its signature; 4-byte sizes, or 8 for zip64 entries.
      uint64_t d = entry_end;
      if (cd_offset_ - d >= 4 && le(b, d, 4) == kDescriptorSig) d += 4;
      int width = 0;
      for (int w : {4, 8})
        if (width == 0 && cd_offset_ - d >= 4 + 2 * static_cast<uint64_t>(w) && le(b, d, 4) == e.crc32 &&
            le(b, d + 4, w) == e.compressed_size && le(b, d + 4 + w, w) == e.size)
          width = w;
      GLASSBOX_CHECK(width != 0, entry, ": data descriptor missing or disagrees with the central directory");
      entry_end = d + 4 + 2 * static_cast<uint64_t>(width);
    }
    extents.push_back({h, entry_end, entries_.size()});
    entries_.push_back(std::move(e));
  }
  GLASSBOX_CHECK(p == cd_end, nm, ": ", cd_end - p, " stray bytes at the end of the central directory");
  std::sort(extents.begin(), extents.end(), [](const Extent& x, const Extent& y) { return x.begin < y.begin; });
  for (size_t i = 1; i < extents.size(); ++i)
    GLASSBOX_CHECK(extents[i - 1].end <= extents[i].begin, nm, ": entries ", quoted(entries_[extents[i - 1].entry].name),
                   " and ", quoted(entries_[extents[i].entry].name), " overlap");
  // Every entry's content against its CRC-32.
  // Deflated entries are inflated piece by piece for this, so no declared size is ever allocated.
  for (const ZipEntry& e : entries_) {
    uLong crc = crc32_z(0L, Z_NULL, 0);
    if (e.method == 8) {
      std::string why;
      const std::string_view in = b.substr(static_cast<size_t>(e.data_offset), static_cast<size_t>(e.compressed_size));
      const bool whole = inflate_exact(
          in, e.size, [&](const char* p, size_t n) { crc = crc32_z(crc, reinterpret_cast<const Bytef*>(p), n); }, why);
      GLASSBOX_CHECK(whole, nm, ": entry ", quoted(e.name), ": ", why);
    } else {
      const std::string_view content = stored(e);
      crc = crc32_z(crc, reinterpret_cast<const Bytef*>(content.data()), content.size());
    }
    GLASSBOX_CHECK(static_cast<uint32_t>(crc) == e.crc32, nm, ": entry ", quoted(e.name), " is damaged (CRC-32 mismatch)");
  }
}

const ZipEntry* ZipArchive::find(std::string_view name) const {
  for (const ZipEntry& e : entries_)
    if (e.name == name) return &e;
  return nullptr;
}

std::string_view ZipArchive::stored(const ZipEntry& e) const {
  GLASSBOX_CHECK(e.method == 0, name_, ": entry ", quoted(e.name), " is compressed");
  return bytes_.substr(static_cast<size_t>(e.data_offset), static_cast<size_t>(e.size));
}

std::string ZipArchive::read(const ZipEntry& e) const {
  if (e.method == 0) return std::string(stored(e));
  std::string out, why;
  const std::string_view in = bytes_.substr(static_cast<size_t>(e.data_offset), static_cast<size_t>(e.compressed_size));
  // Grown as the data inflates (the constructor has already inflated it once), not from the declared size.
  const bool whole = inflate_exact(in, e.size, [&](const char* p, size_t n) { out.append(p, n); }, why);
  GLASSBOX_CHECK(whole, name_, ": entry ", quoted(e.name), ": ", why);
  return out;
}

std::string ZipArchive::prefix() const {
  if (entries_.empty()) return "";
  const std::string& first = entries_.front().name;
  const size_t slash = first.find('/');
  return slash == std::string::npos ? "" : first.substr(0, slash + 1);
}

std::string zip_append(const ZipArchive& archive, std::string_view bytes,
                       const std::vector<std::pair<std::string, std::string>>& added, std::string_view comment) {
  uint64_t total = archive.comment_offset() + comment.size();
  for (const auto& [name, content] : added) total += 2 * name.size() + content.size() + kLocalSize + kCentralSize;
  GLASSBOX_CHECK(total < 0xFFFFFFF0u && archive.entries().size() + added.size() < 0xFFFF,
                 "zip: archives of 4 GiB or 65,535 entries and more are not supported");
  GLASSBOX_CHECK(comment.size() <= 0xFFFF, "zip: comment of ", comment.size(), " bytes, at most 65,535");
  std::string out(bytes.substr(0, static_cast<size_t>(archive.central_directory_offset())));
  std::vector<uint64_t> offsets;
  for (const auto& [name, content] : added) {
    offsets.push_back(out.size());
    put_le(out, kLocalSig, 4);
    put_le(out, 20, 2);       // version needed: 2.0
    put_le(out, 0x0800, 2);   // names are UTF-8
    put_le(out, 0, 2);        // stored
    put_le(out, 0, 4);        // time and date
    put_le(out, crc_of(content), 4);
    put_le(out, content.size(), 4);
    put_le(out, content.size(), 4);
    put_le(out, name.size(), 2);
    put_le(out, 0, 2);
    out += name;
    out += content;
  }
  const uint64_t cd_offset = out.size();
  out += bytes.substr(static_cast<size_t>(archive.central_directory_offset()),
                      static_cast<size_t>(archive.central_directory_size()));
  for (size_t i = 0; i < added.size(); ++i) {
    const auto& [name, content] = added[i];
    put_le(out, kCentralSig, 4);
    put_le(out, 20, 2);  // made by
    put_le(out, 20, 2);  // needed
    put_le(out, 0x0800, 2);
    put_le(out, 0, 2);
    put_le(out, 0, 4);
    put_le(out, crc_of(content), 4);
    put_le(out, content.size(), 4);
    put_le(out, content.size(), 4);
    put_le(out, name.size(), 2);
    put_le(out, 0, 2);  // extra
    put_le(out, 0, 2);  // comment
    put_le(out, 0, 2);  // disk
    put_le(out, 0, 2);  // internal attributes
    put_le(out, 0, 4);  // external attributes
    put_le(out, offsets[i], 4);
    out += name;
  }
  const uint64_t count = archive.entries().size() + added.size();
  const uint64_t cd_size = out.size() - cd_offset;
  put_le(out, kEndSig, 4);
  put_le(out, 0, 2);
  put_le(out, 0, 2);
  put_le(out, count, 2);
  put_le(out, count, 2);
  put_le(out, cd_size, 4);
  put_le(out, cd_offset, 4);
  put_le(out, comment.size(), 2);
  out += comment;
  return out;
}

}  // namespace glassbox
