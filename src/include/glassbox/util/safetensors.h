// safetensors: the data-only tensor file of the PyTorch ecosystem (Hugging Face's format, read in
// Python by the `safetensors` package): an 8-byte little-endian header size N, N bytes of JSON
//   {"__metadata__": {"key": "string", ...}, "name": {"dtype": "F32", "shape": [2, 3],
//    "data_offsets": [begin, end]}, ...}
// and then the tensors' bytes, little-endian, row-major, offsets relative to the end of the header.
// Nothing in it is executed: glassbox's checkpoints use it so that loading one runs no code.
// The reader checks everything before a byte of tensor data is handed out: the header's size against
// the file and a bound, the JSON's nesting, every dtype, shape and offset, and that the tensors tile the
// data exactly (no gap, no overlap, nothing after the last), as the format requires. Free of libtorch.
// Written here rather than taken from a library: Debian has no C++ safetensors package, and the format
// is a page long.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace glassbox {

// The element types glassbox reads and writes, with the format's names.
enum class SafetensorsDtype { F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL };

// "F32" ... for a dtype; bytes per element.
const char* safetensors_dtype_name(SafetensorsDtype dtype);
size_t safetensors_dtype_size(SafetensorsDtype dtype);

struct SafetensorsTensor {
  std::string name;
  SafetensorsDtype dtype = SafetensorsDtype::F32;
  std::vector<int64_t> shape;
  std::string_view bytes;  // reading: a view into the file's bytes; writing: the bytes to write
};

struct SafetensorsLimits {
  uint64_t max_header_bytes = uint64_t(16) << 20;  // the JSON header (the format's own reader caps it at 100 MB)
  size_t max_tensors = 100000;
  int max_dims = 8;
};

struct SafetensorsFile {
  std::map<std::string, std::string> metadata;  // "__metadata__": string values only, as the format says
  std::vector<SafetensorsTensor> tensors;       // in the order of their data
  // The tensor called `name`, or null.
  const SafetensorsTensor* find(const std::string& name) const;
};

// Parses `bytes` (which must outlive the result: tensors are views into it). Throws glassbox::Error
// naming `path`, the field and what was expected, never echoing more than a short excerpt.
SafetensorsFile parse_safetensors(std::string_view bytes, const std::string& path, const SafetensorsLimits& limits = {});

// Whether `bytes` start like a safetensors file (a plausible header size followed by '{').
bool looks_like_safetensors(std::string_view bytes);

// A safetensors file holding `tensors` in the given order and `metadata`. Throws on duplicate or empty
// names, or bytes that do not match a tensor's dtype and shape.
std::string write_safetensors(const std::map<std::string, std::string>& metadata,
                              const std::vector<SafetensorsTensor>& tensors);

}  // namespace glassbox
