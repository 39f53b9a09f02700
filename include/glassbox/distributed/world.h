// Joining the world a launcher started this process in, in one call: torchrun's environment read
// (launch-environment.h), the rank's device chosen (cuda: cuda:LOCAL_RANK unless an index is given),
// NCCL for CUDA and Gloo otherwise, and the rendezvous (process-group.h). A process no launcher started
// is a world of one, with no rendezvous; so the same program runs alone or as one of many ranks.
//
//   auto world = glassbox::distributed::join_world(glassbox::distributed::WorldOptions().device(device));
//   trainer.distribute(world.communicator);
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "glassbox/distributed/communicator.h"
#include "glassbox/distributed/launch-environment.h"
#include "glassbox/util/arg.h"

namespace glassbox::distributed {

struct WorldOptions {
  // The device the work runs on: a CUDA device without an index becomes each rank's cuda:LOCAL_RANK.
  GLASSBOX_ARG(c10::Device, device) = c10::Device(c10::kCPU);
  // Empty: a TCP store at MASTER_ADDR:MASTER_PORT; else a FileStore at this path on a filesystem every
  // rank shares (it must not exist yet).
  GLASSBOX_ARG(std::string, rendezvous_file);
  // How long the rendezvous and every collective wait for the other ranks.
  GLASSBOX_ARG(std::chrono::milliseconds, timeout) = std::chrono::seconds(120);
};

struct World {
  LaunchEnvironment environment;
  c10::Device device = c10::Device(c10::kCPU);  // this rank's
  std::shared_ptr<Communicator> communicator;
};

// The device `device` means for this rank (cuda without an index: cuda:LOCAL_RANK of a launched rank).
c10::Device rank_device(c10::Device device, const LaunchEnvironment& environment);

// Joins the world the environment describes (read_launch_environment). Errors are one line naming the
// variable or option at fault, or the address or file the rendezvous could not use.
World join_world(const WorldOptions& options = WorldOptions(),
                 const LaunchEnvironment& environment = read_launch_environment());

// Runs `run` over rows [0, rows) cut into batches of `batch_size`, spread over the ranks of `world`
// (rank r runs batches r, r + W, r + 2W, ...), and returns every row's result on every rank, in row
// order: what one process running every batch would return, exactly when `run` is deterministic per
// batch. `run(begin, end)` returns [end - begin, ...] on the CPU; every batch's rows have one shape.
at::Tensor sharded_rows(Communicator& world, int64_t rows, int64_t batch_size,
                        const std::function<at::Tensor(int64_t begin, int64_t end)>& run, const std::string& what);

}  // namespace glassbox::distributed
