// The collectives glassbox's distributed work needs, behind one small interface: c10d's ProcessGroup
// C++ API differs between LibTorch 1.13 and 2.x (2.x moved the operations to backends), so only one
// file (src/distributed/process-group.cpp) speaks to c10d, and everything else to this.
#pragma once

#include <ATen/core/Tensor.h>

#include <memory>
#include <string>
#include <vector>

#include "glassbox/util/error.h"

namespace glassbox::distributed {

// A collective that failed: a peer closed its connection (it died) or did not answer within the
// timeout (it hangs). The message names this rank, the operation and what the run was doing.
class DistributedError : public Error {
 public:
  explicit DistributedError(const std::string& message) : Error(message) {}
};

// A started collective; wait() returns when it is done on this rank, or throws DistributedError.
class PendingCollective {
 public:
  virtual ~PendingCollective() = default;
  virtual void wait() = 0;
};

// Every rank calls the same collectives in the same order with tensors of the same shapes and dtypes
// (contiguous, on the communicator's device). `what` says what the call is for, for error messages
// ("gradients", "validation metrics").
class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int world_size() const = 0;
  // Where the tensors of its collectives live (CPU for Gloo, the rank's GPU for NCCL).
  virtual c10::Device device() const { return c10::Device(c10::kCPU); }

  // In place: root's values on every rank.
  virtual void broadcast(at::Tensor& tensor, int root, const char* what) = 0;
  // In place: the element-wise sum over ranks, identical on every rank.
  virtual void all_reduce_sum(at::Tensor& tensor, const char* what) = 0;
  // all_reduce_sum, returning at once (the tensor must stay untouched until wait()).
  virtual std::unique_ptr<PendingCollective> start_all_reduce_sum(at::Tensor tensor, const char* what) = 0;
  // Every rank's tensor (same shape on every rank), in rank order.
  virtual std::vector<at::Tensor> all_gather(const at::Tensor& tensor, const char* what) = 0;
  virtual void barrier(const char* what) = 0;

  // What the run is doing now ("epoch 2, step 812"), added to error messages.
  void set_activity(std::string activity) { activity_ = std::move(activity); }
  const std::string& activity() const { return activity_; }

 private:
  std::string activity_;
};

// Rank 0 of a world of 1: every collective leaves its tensors as they are.
std::shared_ptr<Communicator> single_process();

// Helpers over any communicator.

// In place: root's values of every tensor on every rank (one collective per dtype, over a flat copy).
void broadcast_tensors(Communicator& communicator, std::vector<at::Tensor>& tensors, int root, const char* what);
// In place: root's bytes on every rank.
void broadcast_bytes(Communicator& communicator, std::string& bytes, int root, const char* what);

// Each rank's rows (dim 0 may differ between ranks; other dims must not), concatenated in rank order.
at::Tensor all_gather_rows(Communicator& communicator, const at::Tensor& rows, const char* what);
// The sum over ranks of each value, in double precision.
std::vector<double> all_reduce_sum(Communicator& communicator, std::vector<double> values, const char* what);
// Throws DistributedError on every rank unless each named value is equal on all of them (a dataset's
// size, the epoch a resumed run starts from): ranks that disagree would train on different things.
void check_equal_across_ranks(Communicator& communicator, const std::vector<std::pair<std::string, int64_t>>& values);

}  // namespace glassbox::distributed
