// Checkpoints: weights, optimizer state and enough metadata to rebuild the model from the file alone.
// Written atomically (temporary file, fsync, rename): a crash never leaves a torn checkpoint. Sealed
// with digests (checkpoint-seal.h) and checked before libtorch reads a byte of them.
#pragma once

#include <memory>
#include <string>

#include "glassbox/models/architectures.h"
#include "glassbox/models/checkpoint-meta.h"
#include "glassbox/util/arg.h"

namespace torch::optim {
class Optimizer;
}
namespace torch::serialize {
class InputArchive;
}

namespace glassbox::models {

// Writes `path` atomically, sealed. `optimizer` may be null (weights and metadata only). The
// metadata's model options must be the model's.
void save_checkpoint(const std::string& path, ModuleClassifier& model, const torch::optim::Optimizer* optimizer,
                     const CheckpointMeta& meta);

struct CheckpointLoadOptions {
  // A file without glassbox's digests (glassbox 0.1's format, or written or edited elsewhere) is a
  // program for libtorch's unpickler, which crashes on some damaged files: it is first loaded in a
  // child process, so that a crash there is an error here. Costs a second load of such files.
  GLASSBOX_ARG(bool, isolate_unsealed) = true;
  GLASSBOX_ARG(double, isolation_timeout_seconds) = 300;
};

// A checkpoint read once and checked: the container, the digests, the metadata, and that the weights
// it declares fit in the file, all before libtorch parses it (from the very bytes that were checked).
class CheckpointFile {
 public:
  explicit CheckpointFile(const std::string& path, const CheckpointLoadOptions& options = {});
  ~CheckpointFile();
  CheckpointFile(const CheckpointFile&) = delete;
  CheckpointFile& operator=(const CheckpointFile&) = delete;

  const std::string& path() const { return path_; }
  const CheckpointMeta& meta() const { return meta_; }
  // Whether glassbox's digests were present and matched (false: an older or foreign file, loaded isolated).
  bool sealed() const { return sealed_; }

  // A new model with the recorded architecture and these weights.
  std::unique_ptr<ModuleClassifier> make_model() const;
  // Loads the weights into `model`, which must have the recorded architecture, shapes and classes.
  void load_weights(ModuleClassifier& model) const;
  bool has_optimizer_state() const;
  // Restores the optimizer state into `optimizer` (built over the same parameters).
  void load_optimizer_state(torch::optim::Optimizer& optimizer) const;

 private:
  std::string path_;
  CheckpointMeta meta_;
  bool sealed_ = false;
  std::unique_ptr<torch::serialize::InputArchive> archive_;
};

struct Checkpoint {
  CheckpointMeta meta;
  std::unique_ptr<ModuleClassifier> model;
};

// Reads a checkpoint and rebuilds its model. Errors (missing, damaged, not a glassbox checkpoint,
// weights that do not fit the recorded architecture) name the file.
Checkpoint load_checkpoint(const std::string& path, const CheckpointLoadOptions& options = {});

}  // namespace glassbox::models
