// Checkpoints: weights, optimizer state and enough metadata to rebuild the model from the file alone.
// Data only (checkpoint-format.h: a safetensors file): loading one runs no code, and the architecture
// comes from glassbox's registry. Written atomically (temporary file, fsync, rename): a crash never
// leaves a torn checkpoint. Files of glassbox's earlier formats (TorchScript archives, which carry code)
// are read only in a contained child process, which hands back their contents as data.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "glassbox/models/architectures.h"
#include "glassbox/models/checkpoint-meta.h"
#include "glassbox/util/arg.h"

namespace torch::optim {
class Optimizer;
}

namespace glassbox::models {

// Writes `path` atomically, sealed. `optimizer` may be null (weights and metadata only). The
// metadata's model options must be the model's.
void save_checkpoint(const std::string& path, ModuleClassifier& model, const torch::optim::Optimizer* optimizer,
                     const CheckpointMeta& meta);

struct CheckpointLoadOptions {
  // Whether a checkpoint of an earlier format (a zip archive for libtorch's unpickler, which runs the
  // code the file carries) is read at all; when it is, only in a contained child process (no file
  // opened for writing, no network, no exec: isolated-call.h) that sends back its contents as data.
  GLASSBOX_ARG(bool, convert_earlier_formats) = true;
  // How long that child may take before it is stopped.
  GLASSBOX_ARG(double, isolation_timeout_seconds) = 300;
  // The largest checkpoint file read (and the most its conversion may send back).
  GLASSBOX_ARG(uint64_t, max_file_bytes) = uint64_t(4) << 30;
};

// A checkpoint read once and checked: the container, the digest, the metadata, and that every weight
// the recorded architecture has is there with its shape.
class CheckpointFile {
 public:
  explicit CheckpointFile(const std::string& path, const CheckpointLoadOptions& options = {});
  ~CheckpointFile();
  CheckpointFile(const CheckpointFile&) = delete;
  CheckpointFile& operator=(const CheckpointFile&) = delete;

  const std::string& path() const { return path_; }
  const CheckpointMeta& meta() const;
  // Whether the file was of an earlier format, read in a contained process and converted.
  bool converted() const { return converted_; }

  // A new model with the recorded architecture and these weights.
  std::unique_ptr<ModuleClassifier> make_model() const;
  // Loads the weights into `model`, which must have the recorded architecture, shapes and classes.
  void load_weights(ModuleClassifier& model) const;
  bool has_optimizer_state() const;
  // Restores the optimizer state into `optimizer` (built over the same parameters).
  void load_optimizer_state(torch::optim::Optimizer& optimizer) const;
  // Writes the contents, in the current data-only format, to `path` (atomically).
  void save_as(const std::string& path) const;

 private:
  struct Contents;
  std::string path_;
  std::unique_ptr<Contents> contents_;
  bool converted_ = false;
};

struct Checkpoint {
  CheckpointMeta meta;
  std::unique_ptr<ModuleClassifier> model;
};

// Reads a checkpoint and rebuilds its model. Errors (missing, damaged, not a glassbox checkpoint,
// weights that do not fit the recorded architecture) name the file.
Checkpoint load_checkpoint(const std::string& path, const CheckpointLoadOptions& options = {});

}  // namespace glassbox::models
