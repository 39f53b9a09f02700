// IDX files (the MNIST family's format): a big-endian header of magic, element type and dimensions,
// followed by the elements. This parser is free of libtorch so it can be fuzzed on its own.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace glassbox::data {

// The element types IDX defines (third byte of the magic number).
enum class IdxType : uint8_t {
  u8 = 0x08, i8 = 0x09, i16 = 0x0B, i32 = 0x0C, f32 = 0x0D, f64 = 0x0E,
};

// What an IDX file holds: its dimensions and raw element bytes (still big-endian for wide types).
struct IdxArray {
  IdxType type = IdxType::u8;
  std::vector<uint32_t> dims;
  std::vector<uint8_t> bytes;

  uint64_t element_count() const;
};

// The header size and element layout an IDX file must have; the kind of content expected from it.
enum class IdxKind { any, images, labels };

// The header of an IDX buffer: type, dimensions, and the total size in bytes it declares.
struct IdxHeader {
  IdxType type = IdxType::u8;
  std::vector<uint32_t> dims;
  size_t header_bytes = 0;
  uint64_t total_bytes = 0;  // header + elements
};

// The most an IDX file may declare: 16 GiB (fashion-mnist's images are 47 MB).
constexpr uint64_t kMaxIdxBytes = uint64_t(16) << 30;

// Parses the header at the start of `data` (which holds at least `size` bytes, possibly not the whole
// file). Throws glassbox::Error naming `name` when the magic or the dimensions are wrong, when it
// declares more than kMaxIdxBytes, or when `size` is too short for the header itself.
IdxHeader parse_idx_header(const uint8_t* data, size_t size, const std::string& name, IdxKind kind = IdxKind::any);

// Parses an IDX buffer. `name` is used only in error messages (usually the file path).
// Throws glassbox::Error naming `name` and the offending value when the magic, the element type, the
// dimensions or the size of the buffer do not agree. Never reads outside `data[0, size)`.
IdxArray parse_idx(const uint8_t* data, size_t size, const std::string& name, IdxKind kind = IdxKind::any);

// Reads the whole file and parses it. A name ending in .gz is inflated with zlib, never past the size
// the IDX header inside declares, and only as far as data really arrives: a small .gz cannot make
// glassbox allocate more than its content.
IdxArray read_idx_file(const std::string& path, IdxKind kind = IdxKind::any);

// Checks that a labels array fits an images array: same count, every label < num_classes.
// num_classes 0 means "infer": max label + 1. Returns the class count.
int64_t validate_labels(const IdxArray& images, const std::string& images_name, const IdxArray& labels,
                        const std::string& labels_name, int64_t num_classes = 0);

}  // namespace glassbox::data
