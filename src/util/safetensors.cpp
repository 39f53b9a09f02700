#include "glassbox/util/safetensors.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <set>

#include "glassbox/util/bounded-json.h"
#include "glassbox/util/error.h"

namespace glassbox {
namespace {

constexpr SafetensorsDtype kDtypes[] = {SafetensorsDtype::F64, SafetensorsDtype::F32, SafetensorsDtype::F16,
                                        SafetensorsDtype::BF16, SafetensorsDtype::I64, SafetensorsDtype::I32,
                                        SafetensorsDtype::I16, SafetensorsDtype::I8,  SafetensorsDtype::U8,
                                        SafetensorsDtype::BOOL};

uint64_t read_le64(std::string_view b) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(b[static_cast<size_t>(i)]);
  return v;
}

void put_le64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

// The element count of `shape`, or throws when a dimension is negative or the product overflows.
uint64_t element_count(const std::vector<int64_t>& shape, const std::string& what) {
  uint64_t n = 1;
  for (const int64_t d : shape) {
    GLASSBOX_CHECK(d >= 0, what, ": dimension ", d, " is negative");
    GLASSBOX_CHECK(d == 0 || n <= std::numeric_limits<uint64_t>::max() / 8 / static_cast<uint64_t>(d), what,
                   ": its shape's element count overflows");
    n *= static_cast<uint64_t>(d);
  }
  return n;
}

SafetensorsDtype parse_dtype(const nlohmann::json& v, const std::string& what) {
  GLASSBOX_CHECK(v.is_string(), what, ": dtype is ", describe_json(v), ", expected a string such as \"F32\"");
  for (const SafetensorsDtype d : kDtypes)
    if (v.get_ref<const std::string&>() == safetensors_dtype_name(d)) return d;
  throw Error(what + ": dtype " + describe_json(v) + " is not one glassbox reads (F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL)");
}

}  // namespace

const char* safetensors_dtype_name(SafetensorsDtype d) {
  switch (d) {
    case SafetensorsDtype::F64: return "F64";
    case SafetensorsDtype::F32: return "F32";
    case SafetensorsDtype::F16: return "F16";
    case SafetensorsDtype::BF16: return "BF16";
    case SafetensorsDtype::I64: return "I64";
    case SafetensorsDtype::I32: return "I32";
    case SafetensorsDtype::I16: return "I16";
    case SafetensorsDtype::I8: return "I8";
    case SafetensorsDtype::U8: return "U8";
    case SafetensorsDtype::BOOL: return "BOOL";
  }
  return "?";
}

size_t safetensors_dtype_size(SafetensorsDtype d) {
  switch (d) {
    case SafetensorsDtype::F64:
    case SafetensorsDtype::I64: return 8;
    case SafetensorsDtype::F32:
    case SafetensorsDtype::I32: return 4;
    case SafetensorsDtype::F16:
    case SafetensorsDtype::BF16:
    case SafetensorsDtype::I16: return 2;
    case SafetensorsDtype::I8:
    case SafetensorsDtype::U8:
    case SafetensorsDtype::BOOL: return 1;
  }
  return 1;
}

const SafetensorsTensor* SafetensorsFile::find(const std::string& name) const {
  for (const SafetensorsTensor& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

bool looks_like_safetensors(std::string_view bytes) {
  if (bytes.size() < 10) return false;
  const uint64_t n = read_le64(bytes);
  return n >= 2 && n <= bytes.size() - 8 && bytes[8] == '{';
}

SafetensorsFile parse_safetensors(std::string_view bytes, const std::string& path, const SafetensorsLimits& limits) {
  GLASSBOX_CHECK(bytes.size() >= 8, path, ": ", bytes.size(), " bytes, too short for a safetensors file (8-byte header size)");
  const uint64_t header_size = read_le64(bytes);
  GLASSBOX_CHECK(header_size <= limits.max_header_bytes, path, ": safetensors header of ", header_size,
                 " bytes, more than the ", limits.max_header_bytes, " accepted");
  GLASSBOX_CHECK(header_size <= bytes.size() - 8, path, ": safetensors header of ", header_size, " bytes, but the file has only ",
                 bytes.size() - 8, " after its size");
  const std::string_view header = bytes.substr(8, static_cast<size_t>(header_size));
  GLASSBOX_CHECK(!header.empty() && header[0] == '{', path, ": safetensors header does not start with '{'");
  const std::string_view data = bytes.substr(8 + static_cast<size_t>(header_size));
  // Deep enough for the format (an object of objects of arrays), and no deeper.
  const nlohmann::json j = parse_bounded_json(header, path + ": safetensors header", 4);
  GLASSBOX_CHECK(j.is_object(), path, ": safetensors header is ", describe_json(j), ", expected an object");
  GLASSBOX_CHECK(j.size() <= limits.max_tensors + 1, path, ": safetensors header lists ", j.size(),
                 " entries, more than the ", limits.max_tensors, " accepted");
  SafetensorsFile out;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string what = path + ": tensor '" + printable_excerpt(it.key(), 80) + "'";
    if (it.key() == "__metadata__") {
      GLASSBOX_CHECK(it->is_object(), path, ": __metadata__ is ", describe_json(*it), ", expected an object of strings");
      for (auto m = it->begin(); m != it->end(); ++m) {
        GLASSBOX_CHECK(m->is_string(), path, ": __metadata__ '", printable_excerpt(m.key(), 80), "' is ", describe_json(*m),
                       ", expected a string");
        out.metadata[m.key()] = m->get<std::string>();
      }
      continue;
    }
    GLASSBOX_CHECK(!it.key().empty(), path, ": a tensor with an empty name");
    GLASSBOX_CHECK(it->is_object(), what, " is ", describe_json(*it), ", expected an object");
    const auto dtype = it->find("dtype"), shape = it->find("shape"), offsets = it->find("data_offsets");
    GLASSBOX_CHECK(dtype != it->end() && shape != it->end() && offsets != it->end(), what,
                   ": expected dtype, shape and data_offsets");
    SafetensorsTensor t;
    t.name = it.key();
    t.dtype = parse_dtype(*dtype, what);
    GLASSBOX_CHECK(shape->is_array() && static_cast<int>(shape->size()) <= limits.max_dims, what, ": shape is ",
                   describe_json(*shape), ", expected an array of at most ", limits.max_dims, " dimensions");
    for (const auto& d : *shape) {
      GLASSBOX_CHECK(d.is_number_integer(), what, ": shape holds ", describe_json(d), ", expected integers");
      t.shape.push_back(d.is_number_unsigned() && d.get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max())
                            ? -1
                            : d.get<int64_t>());
    }
    const uint64_t nbytes = element_count(t.shape, what) * safetensors_dtype_size(t.dtype);
    GLASSBOX_CHECK(offsets->is_array() && offsets->size() == 2 && (*offsets)[0].is_number_unsigned() &&
                       (*offsets)[1].is_number_unsigned(),
                   what, ": data_offsets is ", describe_json(*offsets), ", expected [begin, end]");
    const uint64_t begin = (*offsets)[0].get<uint64_t>(), end = (*offsets)[1].get<uint64_t>();
    GLASSBOX_CHECK(begin <= end && end <= data.size(), what, ": data_offsets [", begin, ", ", end, "] outside the ",
                   data.size(), " bytes of data");
    GLASSBOX_CHECK(end - begin == nbytes, what, ": data_offsets hold ", end - begin, " bytes, but its dtype and shape need ", nbytes);
    t.bytes = data.substr(static_cast<size_t>(begin), static_cast<size_t>(nbytes));
    out.tensors.push_back(std::move(t));
  }
  // The tensors must tile the data: sorted by offset, each begins where the previous ends.
  std::sort(out.tensors.begin(), out.tensors.end(),
            [&](const SafetensorsTensor& a, const SafetensorsTensor& b) { return a.bytes.data() < b.bytes.data() ||
                                                                                 (a.bytes.data() == b.bytes.data() && a.bytes.size() < b.bytes.size()); });
  const char* at = data.data();
  for (const SafetensorsTensor& t : out.tensors) {
    GLASSBOX_CHECK(t.bytes.data() == at, path, ": tensor '", printable_excerpt(t.name, 80), "' ",
                   t.bytes.data() < at ? "overlaps the one before it" : "leaves a gap before it");
    at += t.bytes.size();
  }
  GLASSBOX_CHECK(at == data.data() + data.size(), path, ": ", data.data() + data.size() - at,
                 " bytes after the last tensor's data");
  return out;
}

std::string write_safetensors(const std::map<std::string, std::string>& metadata,
                              const std::vector<SafetensorsTensor>& tensors) {
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::set<std::string> names;
  uint64_t offset = 0;
  for (const SafetensorsTensor& t : tensors) {
    GLASSBOX_CHECK(!t.name.empty() && t.name != "__metadata__", "safetensors: tensor name '", printable_excerpt(t.name, 80),
                   "' cannot be written");
    GLASSBOX_CHECK(names.insert(t.name).second, "safetensors: tensor '", printable_excerpt(t.name, 80), "' twice");
    const uint64_t nbytes = element_count(t.shape, "safetensors: tensor '" + t.name + "'") * safetensors_dtype_size(t.dtype);
    GLASSBOX_CHECK(nbytes == t.bytes.size(), "safetensors: tensor '", printable_excerpt(t.name, 80), "' has ", t.bytes.size(),
                   " bytes, its dtype and shape need ", nbytes);
    header[t.name] = {{"dtype", safetensors_dtype_name(t.dtype)}, {"shape", t.shape}, {"data_offsets", {offset, offset + nbytes}}};
    offset += nbytes;
  }
  std::string text = header.dump();
  // Padded with spaces to a multiple of 8, as the format's own writer does, so the data stays aligned.
  text.append((8 - text.size() % 8) % 8, ' ');
  std::string out;
  out.reserve(8 + text.size() + static_cast<size_t>(offset));
  put_le64(out, text.size());
  out += text;
  for (const SafetensorsTensor& t : tensors) out.append(t.bytes.data(), t.bytes.size());
  return out;
}

}  // namespace glassbox
