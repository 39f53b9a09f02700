// libFuzzer target for what glassbox checks of a checkpoint: the first byte picks the data-only format's
// decoder (decode_checkpoint: safetensors header, digest, metadata), the safetensors parser alone, the
// earlier format's zip container + digests check (check_checkpoint) or the metadata parser
// (CheckpointMeta::from_json) alone, so that mutations reach deep into the JSON instead of stopping at a digest. Any input must be
// accepted or throw glassbox::Error, never crash, overflow the stack or read out of bounds.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "glassbox/models/checkpoint-format.h"
#include "glassbox/models/checkpoint-seal.h"
#include "glassbox/util/safetensors.h"
#include "glassbox/util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    if (data[0] % 4 == 2) {
      glassbox::models::decode_checkpoint(rest, "fuzz.ckpt");
    } else if (data[0] % 4 == 3) {
      const glassbox::SafetensorsFile f = glassbox::parse_safetensors(rest, "fuzz.safetensors");
      std::vector<glassbox::SafetensorsTensor> tensors(f.tensors.begin(), f.tensors.end());
      glassbox::parse_safetensors(glassbox::write_safetensors(f.metadata, tensors), "round trip");
    } else if (data[0] % 2 == 0) {
      const glassbox::models::CheckedCheckpoint c = glassbox::models::check_checkpoint(rest, "fuzz.ckpt");
      if (c.meta) glassbox::models::CheckpointMeta::from_json(c.meta->to_json(), "round trip");
    } else {
      const glassbox::models::CheckpointMeta m = glassbox::models::CheckpointMeta::from_json(rest, "fuzz.json");
      glassbox::models::CheckpointMeta::from_json(m.to_json(), "round trip");  // what it accepts, it writes readably
    }
  } catch (const glassbox::Error&) {
  }
  return 0;
}
