// Checkpoints: weights, optimizer state and enough metadata to rebuild the model from the file alone.
// Written atomically (temporary file, fsync, rename): a crash never leaves a torn checkpoint.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "glassbox/data/dataset.h"
#include "glassbox/models/architectures.h"

namespace torch::optim {
class Optimizer;
}

namespace glassbox::models {

struct CheckpointMeta {
  std::string architecture;
  InputShape shape;
  int64_t num_classes = 0;
  int64_t hidden = 256;
  int64_t conv_channels = 32;
  std::vector<std::string> class_names;
  data::Normalization normalization;
  int64_t epoch = 0;        // epochs completed when written
  int64_t global_step = 0;  // optimizer steps taken when written
  std::map<std::string, double> metrics;
  std::string optimizer;    // "adam" or "sgd"
  double learning_rate = 0;
  uint64_t seed = 0;

  ModelOptions model_options() const;
  std::string to_json() const;
  static CheckpointMeta from_json(const std::string& text, const std::string& path);
};

// Writes `path` atomically. `optimizer` may be null (weights and metadata only).
void save_checkpoint(const std::string& path, ModuleClassifier& model, const torch::optim::Optimizer* optimizer,
                     const CheckpointMeta& meta);

struct Checkpoint {
  CheckpointMeta meta;
  std::unique_ptr<ModuleClassifier> model;
};

// Reads a checkpoint and rebuilds its model. Errors (missing, corrupt, not a glassbox checkpoint,
// weights that do not fit the recorded architecture) name the file.
Checkpoint load_checkpoint(const std::string& path);

// Reads a checkpoint's metadata and loads its weights into an existing `model`, which must have the
// recorded architecture and shapes. Returns the metadata.
CheckpointMeta load_weights(const std::string& path, ModuleClassifier& model);

// Restores the optimizer state saved in `path` into `optimizer` (built over the same parameters).
void load_optimizer_state(const std::string& path, torch::optim::Optimizer& optimizer);

}  // namespace glassbox::models
