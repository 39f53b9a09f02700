#include "glassbox/models/checkpoint-format.h"

#include <nlohmann/json.hpp>

#include "glassbox/models/checkpoint-seal.h"
#include "glassbox/util/bounded-json.h"
#include "glassbox/util/error.h"
#include "glassbox/util/sha256.h"

namespace glassbox::models {
namespace {

// What the file's digest covers: the tensors' index, [[name, dtype, shape, begin, end], ...] in file
// order as compact JSON, then the format, glassbox and optimizer metadata, each followed by a NUL, then
// every tensor byte. So a changed byte anywhere that still parses (a digit of a class name's, a
// learning rate's) is told from the file glassbox wrote.
std::string content_digest(const std::vector<SafetensorsTensor>& tensors, const std::string& format, const std::string& meta,
                           const std::string& optimizer) {
  nlohmann::json index = nlohmann::json::array();
  uint64_t offset = 0;
  for (const SafetensorsTensor& t : tensors) {
    index.push_back({t.name, safetensors_dtype_name(t.dtype), t.shape, offset, offset + t.bytes.size()});
    offset += t.bytes.size();
  }
  std::string covered = index.dump() + '\0' + format + '\0' + meta + '\0' + optimizer + '\0';
  covered.reserve(covered.size() + static_cast<size_t>(offset));
  for (const SafetensorsTensor& t : tensors) covered.append(t.bytes.data(), t.bytes.size());
  return sha256_hex(covered);
}

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

}  // namespace

bool is_zip_checkpoint(std::string_view bytes) { return bytes.size() >= 4 && bytes.substr(0, 4) == std::string_view("PK\x03\x04", 4); }

std::string encode_checkpoint(const CheckpointMeta& meta, const std::string& optimizer_kind,
                              const std::map<int64_t, int64_t>& adam_steps, const std::vector<SafetensorsTensor>& tensors) {
  nlohmann::json optimizer = nlohmann::json::object();
  if (!optimizer_kind.empty()) {
    optimizer["kind"] = optimizer_kind;
    nlohmann::json steps = nlohmann::json::object();
    for (const auto& [i, step] : adam_steps) steps[std::to_string(i)] = step;
    optimizer["steps"] = steps;
  }
  CheckpointMeta written = meta;
  written.entries.clear();  // format 2's zip digests: the file's own digest covers everything here
  const std::string meta_json = written.to_json(), optimizer_json = optimizer.dump();
  return write_safetensors({{"format", kCheckpointFormat3},
                            {"glassbox", meta_json},
                            {"optimizer", optimizer_json},
                            {"sha256", content_digest(tensors, kCheckpointFormat3, meta_json, optimizer_json)}},
                           tensors);
}

CheckpointContents decode_checkpoint(std::string_view bytes, const std::string& path) {
  CheckpointContents out;
  out.tensors = parse_safetensors(bytes, path);
  const auto& md = out.tensors.metadata;
  const auto format = md.find("format");
  GLASSBOX_CHECK(format != md.end() && format->second == kCheckpointFormat3, path, ": a safetensors file, but not a ",
                 "glassbox checkpoint (__metadata__ format is ",
                 format == md.end() ? std::string("missing") : "'" + printable_excerpt(format->second) + "'", ", expected ",
                 kCheckpointFormat3, ")");
  const auto digest = md.find("sha256"), meta = md.find("glassbox"), optimizer = md.find("optimizer");
  GLASSBOX_CHECK(digest != md.end() && meta != md.end() && optimizer != md.end() && md.size() == 4, path,
                 ": a glassbox checkpoint's metadata is format, glassbox, optimizer and sha256, this one's is not");
  GLASSBOX_CHECK(content_digest(out.tensors.tensors, format->second, meta->second, optimizer->second) == digest->second,
                 path, ": damaged: its SHA-256 differs from the one recorded when it was written");
  out.meta = CheckpointMeta::from_json(meta->second, path);
  const nlohmann::json o = parse_bounded_json(optimizer->second, path + ": optimizer metadata", 4);
  GLASSBOX_CHECK(o.is_object(), path, ": optimizer metadata is ", describe_json(o), ", expected an object");
  if (!o.empty()) {
    const auto kind = o.find("kind"), steps = o.find("steps");
    GLASSBOX_CHECK(kind != o.end() && kind->is_string() && (*kind == "adam" || *kind == "sgd"), path,
                   ": optimizer metadata's kind is ", kind == o.end() ? "missing" : describe_json(*kind), ", expected adam or sgd");
    out.optimizer_kind = kind->get<std::string>();
    GLASSBOX_CHECK(steps != o.end() && steps->is_object(), path, ": optimizer metadata has no steps object");
    for (auto it = steps->begin(); it != steps->end(); ++it) {
      const std::string& key = it.key();
      GLASSBOX_CHECK(!key.empty() && key.size() <= 9 && key.find_first_not_of("0123456789") == std::string::npos, path,
                     ": optimizer step for parameter '", printable_excerpt(key), "', expected a parameter index");
      // Bounded far above any training's length, so that resuming cannot overflow the count.
      GLASSBOX_CHECK(it->is_number_unsigned() && it->get<uint64_t>() <= (uint64_t(1) << 53), path,
                     ": optimizer step count ", describe_json(*it), " for parameter ", key, ", expected 0 to 2^53");
      out.adam_steps[std::stoll(key)] = it->get<int64_t>();
    }
  }
  uint64_t model_bytes = 0;
  for (const SafetensorsTensor& t : out.tensors.tensors) {
    GLASSBOX_CHECK(starts_with(t.name, "model.") || starts_with(t.name, "optimizer."), path, ": tensor '",
                   printable_excerpt(t.name, 80), "' is not one glassbox writes (model.* or optimizer.*)");
    GLASSBOX_CHECK(t.dtype == SafetensorsDtype::F32 || t.dtype == SafetensorsDtype::I64, path, ": tensor '",
                   printable_excerpt(t.name, 80), "' is ", safetensors_dtype_name(t.dtype), ", expected F32 (or I64 for counters)");
    if (starts_with(t.name, "model.")) model_bytes += t.bytes.size();
  }
  check_weights_fit(out.meta.model, model_bytes, path);
  return out;
}

}  // namespace glassbox::models
