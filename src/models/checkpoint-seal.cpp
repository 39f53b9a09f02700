#include "glassbox/models/checkpoint-seal.h"

#include "glassbox/util/error.h"
#include "glassbox/util/sha256.h"
#include "glassbox/util/zip-archive.h"

namespace glassbox::models {
namespace {

constexpr std::string_view kMetaEntry = "glassbox/meta.json";
constexpr std::string_view kCommentTag = "glassbox-sha256:";
constexpr size_t kCommentSize = 16 + 64;

bool is_hex64(std::string_view s) {
  return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

}  // namespace

std::string seal_checkpoint(std::string_view torch_archive, CheckpointMeta meta) {
  const ZipArchive zip(torch_archive, "checkpoint");
  const std::string meta_name = zip.prefix() + std::string(kMetaEntry);
  meta.entries.clear();
  for (const ZipEntry& e : zip.entries()) meta.entries[e.name] = {e.size, sha256_hex(zip.read(e))};
  std::string comment = std::string(kCommentTag) + std::string(64, '0');
  std::string out = zip_append(zip, torch_archive, {{meta_name, meta.to_json()}}, comment);
  const std::string digest = sha256_hex(std::string_view(out).substr(0, out.size() - kCommentSize));
  out.replace(out.size() - 64, 64, digest);
  return out;
}

CheckedCheckpoint check_checkpoint(std::string_view bytes, const std::string& path) {
  const ZipArchive zip(bytes, path);
  const std::string prefix = zip.prefix();
  CheckedCheckpoint out;
  for (const ZipEntry& e : zip.entries())
    if (e.name.compare(0, prefix.size() + 5, prefix + "data/") == 0) out.tensor_bytes += e.size;
  const ZipEntry* meta_entry = zip.find(prefix + std::string(kMetaEntry));
  const std::string_view comment = zip.comment();
  const bool has_digest = comment.substr(0, kCommentTag.size()) == kCommentTag;
  GLASSBOX_CHECK(has_digest || meta_entry == nullptr, path,
                 ": damaged or edited: glassbox's metadata is there, but not the file digest it is written with");
  if (meta_entry == nullptr) {
    GLASSBOX_CHECK(!has_digest, path, ": damaged: it has glassbox's digest but no ", kMetaEntry, " entry");
    return out;  // not sealed: a file glassbox did not write this way
  }
  // Each entry against its digest first (the most precise message), then the file as a whole.
  CheckpointMeta meta = CheckpointMeta::from_json(zip.read(*meta_entry), path);
  size_t checked = 0;
  for (const ZipEntry& e : zip.entries()) {
    if (&e == meta_entry) continue;
    const auto it = meta.entries.find(e.name);
    GLASSBOX_CHECK(it != meta.entries.end(), path, ": damaged or edited: entry '", printable_excerpt(e.name, 80),
                   "' was not in the checkpoint glassbox wrote");
    GLASSBOX_CHECK(it->second.size == e.size && it->second.sha256 == sha256_hex(zip.read(e)), path,
                   ": damaged or edited: entry '", printable_excerpt(e.name, 80),
                   "' differs from the digest recorded when glassbox wrote it");
    ++checked;
  }
  GLASSBOX_CHECK(checked == meta.entries.size(), path, ": damaged or edited: ", meta.entries.size() - checked,
                 " entries recorded when glassbox wrote it are missing");
  GLASSBOX_CHECK(comment.size() == kCommentSize && is_hex64(comment.substr(kCommentTag.size())), path,
                 ": damaged: its digest record is malformed");
  GLASSBOX_CHECK(sha256_hex(bytes.substr(0, static_cast<size_t>(zip.comment_offset()))) == comment.substr(kCommentTag.size()),
                 path, ": damaged: its SHA-256 differs from the one glassbox recorded when writing it");
  check_weights_fit(meta.model, out.tensor_bytes, path);
  out.sealed = true;
  out.meta = std::move(meta);
  return out;
}

void check_weights_fit(const ModelOptions& options, uint64_t tensor_bytes, const std::string& path) {
  const uint64_t needed = static_cast<uint64_t>(parameter_count(options)) * 4;
  GLASSBOX_CHECK(needed <= tensor_bytes, path, ": its metadata declares a ", options.architecture(), " model of ",
                 parameter_count(options), " parameters (", needed, " bytes of weights), but the file holds only ",
                 tensor_bytes, " bytes of tensors");
}

}  // namespace glassbox::models
