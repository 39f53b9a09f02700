// glassbox's checkpoint file (format 3): data only, nothing in it is ever executed. It is a safetensors
// file (util/safetensors.h; readable in Python with `safetensors.torch.load_file`):
//   model.<name>               every parameter and buffer of the model, by its name in the module
//   optimizer.<i>.<field>      the optimizer's per-parameter state, i counting the parameters in order
//                              (Adam: exp_avg, exp_avg_sq, max_exp_avg_sq; SGD: momentum_buffer)
//   __metadata__ format        "glassbox-checkpoint-3"
//                glassbox      the CheckpointMeta as JSON (the architecture's name and sizes, classes,
//                              preprocessing, where training stood)
//                optimizer     JSON: {"kind": "adam"|"sgd", "steps": {"<i>": Adam's step count}}
//                sha256        the SHA-256 of the tensors' index, the other metadata and every tensor byte
//                              (checkpoint-format.cpp says how), to tell damage from the file as written
// The architecture is built from glassbox's own registry (ModelOptions), never from the file, so a file
// can at worst hold wrong numbers. Checkpoints of earlier formats (a TorchScript zip archive, which holds
// code) are read only through a contained process (checkpoint.h). Free of libtorch: fuzzed on its own.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "glassbox/models/checkpoint-meta.h"
#include "glassbox/util/safetensors.h"

namespace glassbox::models {

inline constexpr const char* kCheckpointFormat3 = "glassbox-checkpoint-3";

struct CheckpointContents {
  CheckpointMeta meta;
  std::string optimizer_kind;           // "" when the file has no optimizer state
  std::map<int64_t, int64_t> adam_steps;  // parameter index -> Adam's step count
  SafetensorsFile tensors;              // views into the bytes decoded
};

// Whether `bytes` are a zip archive (glassbox's earlier checkpoint formats, or any TorchScript file).
bool is_zip_checkpoint(std::string_view bytes);

// The file for `tensors` (named as above) with `meta` and the optimizer's scalars.
std::string encode_checkpoint(const CheckpointMeta& meta, const std::string& optimizer_kind,
                              const std::map<int64_t, int64_t>& adam_steps, const std::vector<SafetensorsTensor>& tensors);

// Checks and decodes a format-3 file: the container, the format tag, the digest, the metadata, and
// that the tensors' names are glassbox's and the model's weights fit what the metadata declares.
// Errors are one line naming `path`. `bytes` must outlive the result.
CheckpointContents decode_checkpoint(std::string_view bytes, const std::string& path);

}  // namespace glassbox::models
