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

// Parses an IDX buffer. `name` is used only in error messages (usually the file path).
// Throws glassbox::Error naming `name` and the offending value when the magic, the element type, the
// dimensions or the size of the buffer do not agree. Never reads outside `data[0, size)`.
IdxArray parse_idx(const uint8_t* data, size_t size, const std::string& name, IdxKind kind = IdxKind::any);

// Reads the whole file (transparently gunzipping it when its name ends in .gz) and parses it.
IdxArray read_idx_file(const std::string& path, IdxKind kind = IdxKind::any);

// Reads a file's bytes, gunzipping when the name ends in .gz. Errors name the path.
std::vector<uint8_t> read_file_bytes(const std::string& path);

// Checks that a labels array fits an images array: same count, every label < num_classes.
// num_classes 0 means "infer": max label + 1. Returns the class count.
int64_t validate_labels(const IdxArray& images, const std::string& images_name, const IdxArray& labels,
                        const std::string& labels_name, int64_t num_classes = 0);

}  // namespace glassbox::data
