// How glassbox knows a checkpoint is exactly what it wrote, before libtorch reads a byte of it.
//
// A checkpoint is PyTorch's zip archive (the weights and optimizer state, as libtorch serialises them)
// with two additions:
//   <prefix>glassbox/meta.json   the metadata (CheckpointMeta), including the size and SHA-256 of every
//                                other entry of the archive;
//   the archive comment          "glassbox-sha256:" and the SHA-256 of every byte of the file before it.
// Checking a file: the zip container (every entry's sizes, offsets and CRC-32), then the file's digest,
// then each entry's digest against the metadata, then that the weights the metadata declares can fit in
// the tensor data the file holds. Only then does libtorch parse anything. Digests detect damage, not
// forgery: a file from someone else is a program for libtorch's parsers, and is loaded as such
// (CheckpointFile isolates it). Free of libtorch: fuzzed on its own.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "glassbox/models/checkpoint-meta.h"

namespace glassbox::models {

// Adds the metadata entry (with the digests of `torch_archive`'s entries filled in) and the file digest.
std::string seal_checkpoint(std::string_view torch_archive, CheckpointMeta meta);

struct CheckedCheckpoint {
  bool sealed = false;                 // glassbox's digests are there and every one matched
  std::optional<CheckpointMeta> meta;  // from the metadata entry, when sealed
  uint64_t tensor_bytes = 0;           // bytes of <prefix>data/* entries: all the tensors the file can hold
};

// Checks `bytes` as described above. Any damage throws glassbox::Error naming `path` and what is wrong.
// A zip without glassbox's metadata entry (a checkpoint of glassbox 0.1, or a file written or edited
// elsewhere) comes back unsealed, its container checked.
CheckedCheckpoint check_checkpoint(std::string_view bytes, const std::string& path);

// Throws unless the weights of the model `options` describe (float32) fit in `tensor_bytes`, so that
// metadata claiming a huge model cannot make glassbox allocate it.
void check_weights_fit(const ModelOptions& options, uint64_t tensor_bytes, const std::string& path);

}  // namespace glassbox::models
