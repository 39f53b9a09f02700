// How the Trainer spreads a run over ranks, as PyTorch's DistributedDataParallel with a
// DistributedSampler does: every rank holds the whole model; rank 0's parameters and optimizer state
// are broadcast at the start; each rank trains on its own shard of each epoch's shuffled order; after
// backward, gradients are averaged over ranks by all-reducing flat buckets of them (starting each
// bucket while backward still runs); every rank then takes the same optimizer step.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "glassbox/distributed/communicator.h"
#include "glassbox/util/arg.h"

namespace torch::optim {
class Optimizer;
}

namespace glassbox::models {
class ModuleClassifier;
}

namespace glassbox::train {

struct DataParallelOptions {
  // Gradients travel in flat buckets of up to this many MiB (DDP's bucket_cap_mb, 25); 0: one
  // all-reduce per parameter.
  GLASSBOX_ARG(double, bucket_cap_mb) = 25;
  // Start each bucket's all-reduce as soon as backward has produced its gradients (DDP's overlap),
  // instead of after backward. Needs each parameter used once per forward, as built-in models are.
  GLASSBOX_ARG(bool, overlap_backward) = true;
};

class DataParallel {
 public:
  explicit DataParallel(std::shared_ptr<distributed::Communicator> communicator, DataParallelOptions options = {});
  ~DataParallel();
  DataParallel(const DataParallel&) = delete;
  DataParallel& operator=(const DataParallel&) = delete;

  int rank() const { return communicator_->rank(); }
  int world_size() const { return communicator_->world_size(); }
  bool writes() const { return rank() == 0; }  // only rank 0 writes files and logs
  distributed::Communicator& communicator() { return *communicator_; }
  const DataParallelOptions& options() const { return options_; }

  // Rank 0's parameters, buffers and optimizer state on every rank.
  void broadcast_state(models::ModuleClassifier& model, torch::optim::Optimizer& optimizer);

  // This rank's part of an epoch's order, as DistributedSampler: the order padded with its own start
  // to a multiple of world_size, then every world_size-th index from `rank`.
  at::Tensor shard(const at::Tensor& order) const;
  // Samples rank, rank + world_size, ... of 0..n-1, without padding: each counts once (validation).
  at::Tensor shard_without_padding(int64_t n) const;

  // Gradient averaging, per step: begin_step() before backward (with the step's loss, averaged over
  // ranks on the way), finish_step() after it. Parameters' .grad must be undefined at begin_step().
  void attach(std::vector<at::Tensor> parameters);
  void detach();  // removes the gradient hooks attach() placed (also on destruction)
  void begin_step(const at::Tensor& loss);
  // Waits for every bucket; each parameter's .grad is then the mean over ranks. Returns the mean loss
  // over ranks, a 0-dim tensor on the communicator's device (not read here: reading waits for it).
  at::Tensor finish_step();

  // Time this rank spent in gradient all-reduce that did not overlap compute (waiting in finish_step,
  // or all of it without overlap), in seconds, since attach().
  double all_reduce_wait_seconds() const { return wait_seconds_; }
  int64_t bucket_count() const;

 private:
  struct Bucket;
  void on_gradient(size_t parameter, const at::Tensor& gradient);
  void launch_ready_buckets();

  std::shared_ptr<distributed::Communicator> communicator_;
  DataParallelOptions options_;
  std::vector<at::Tensor> parameters_;
  std::vector<std::unique_ptr<Bucket>> buckets_;
  std::vector<std::pair<size_t, int64_t>> slot_of_;  // parameter -> (bucket, offset)
  std::vector<unsigned> hooks_;                       // per parameter, when overlapping
  size_t next_launch_ = 0;
  bool armed_ = false;
  double wait_seconds_ = 0;
};

}  // namespace glassbox::train
