// The IDX header and bounds checks. Deliberately no libtorch here: the fuzz target links this alone.
#include "glassbox/data/idx.h"

#include <cstring>
#include <limits>

#include "glassbox/util/error.h"

namespace glassbox::data {
namespace {

size_t element_size(IdxType type) {
  switch (type) {
    case IdxType::u8: case IdxType::i8: return 1;
    case IdxType::i16: return 2;
    case IdxType::i32: case IdxType::f32: return 4;
    case IdxType::f64: return 8;
  }
  return 0;
}

bool known_type(uint8_t code) {
  return code == 0x08 || code == 0x09 || code == 0x0B || code == 0x0C || code == 0x0D || code == 0x0E;
}

uint32_t read_be32(const uint8_t* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

std::string hex32(uint32_t v) {
  char text[11];
  std::snprintf(text, sizeof text, "0x%08X", v);
  return text;
}

}  // namespace

uint64_t IdxArray::element_count() const {
  uint64_t n = 1;
  for (uint32_t d : dims) n *= d;
  return n;
}

IdxHeader parse_idx_header(const uint8_t* data, size_t size, const std::string& name, IdxKind kind) {
  GLASSBOX_CHECK(size > 0, name, ": empty file, expected an IDX header");
  GLASSBOX_CHECK(size >= 4, name, ": ", size, " bytes, too short for the 4-byte IDX magic");
  const uint32_t magic = read_be32(data);
  GLASSBOX_CHECK(data[0] == 0 && data[1] == 0 && known_type(data[2]) && data[3] >= 1, name, ": magic ", hex32(magic),
                 " is not an IDX magic (expected 0x00000801 for labels, 0x00000803 for images)");
  if (kind == IdxKind::images)
    GLASSBOX_CHECK(magic == 0x00000803, name, ": magic ", hex32(magic),
                   ", expected 0x00000803 (uint8 images, 3 dimensions)");
  if (kind == IdxKind::labels)
    GLASSBOX_CHECK(magic == 0x00000801, name, ": magic ", hex32(magic),
                   ", expected 0x00000801 (uint8 labels, 1 dimension)");
  IdxHeader h;
  h.type = static_cast<IdxType>(data[2]);
  const size_t ndims = data[3];
  h.header_bytes = 4 + 4 * ndims;
  GLASSBOX_CHECK(size >= h.header_bytes, name, ": ", size, " bytes, too short for the header of ", ndims,
                 " dimensions (", h.header_bytes, " bytes)");
  // Count the payload in overflow-safe steps: a hostile header can multiply past 2^64.
  const uint64_t limit = std::numeric_limits<uint64_t>::max() / 16;
  uint64_t count = 1;
  for (size_t i = 0; i < ndims; ++i) {
    const uint32_t d = read_be32(data + 4 + 4 * i);
    h.dims.push_back(d);
    GLASSBOX_CHECK(d == 0 || count <= limit / d, name, ": dimensions overflow (dimension ", i, " is ", d, ")");
    count *= d;
  }
  h.total_bytes = h.header_bytes + count * element_size(h.type);
  GLASSBOX_CHECK(h.total_bytes <= kMaxIdxBytes, name, ": its header declares ", h.total_bytes, " bytes (", ndims,
                 " dimensions, ", count, " elements), more than the ", kMaxIdxBytes, " glassbox reads");
  return h;
}

IdxArray parse_idx(const uint8_t* data, size_t size, const std::string& name, IdxKind kind) {
  IdxHeader h = parse_idx_header(data, size, name, kind);
  GLASSBOX_CHECK(uint64_t(size) == h.total_bytes, name, ": file is ", size, " bytes, but its header (", h.dims.size(),
                 " dimensions) says ", h.total_bytes, size < h.total_bytes ? " (truncated)" : " (trailing bytes)");
  IdxArray array;
  array.type = h.type;
  array.dims = std::move(h.dims);
  array.bytes.assign(data + h.header_bytes, data + size);
  return array;
}

int64_t validate_labels(const IdxArray& images, const std::string& images_name, const IdxArray& labels,
                        const std::string& labels_name, int64_t num_classes) {
  GLASSBOX_CHECK(images.type == IdxType::u8 && images.dims.size() >= 3, images_name,
                 ": expected uint8 images with dimensions N x H x W (or N x C x H x W)");
  GLASSBOX_CHECK(labels.type == IdxType::u8 && labels.dims.size() == 1, labels_name,
                 ": expected uint8 labels with one dimension");
  GLASSBOX_CHECK(images.dims[0] == labels.dims[0], labels_name, ": ", labels.dims[0], " labels, but ",
                 images_name, " has ", images.dims[0], " images");
  int64_t max_label = -1;
  for (size_t i = 0; i < labels.bytes.size(); ++i) {
    const int64_t label = labels.bytes[i];
    if (num_classes > 0)
      GLASSBOX_CHECK(label < num_classes, labels_name, ": label ", label, " at index ", i,
                     " is out of range, expected 0..", num_classes - 1);
    if (label > max_label) max_label = label;
  }
  return num_classes > 0 ? num_classes : max_label + 1;
}

}  // namespace glassbox::data
