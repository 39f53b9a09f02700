// The flags that spread a command over ranks, as torchrun's: this machine's ranks started by glassbox
// itself (--nproc-per-node), several machines (--nnodes, --node-rank, --master-addr, --master-port),
// or ranks started by another launcher (torchrun's environment: RANK, WORLD_SIZE, ...).
#pragma once

#include <c10/core/Device.h>

#include <chrono>
#include <memory>
#include <string>

#include "glassbox/distributed/communicator.h"
#include "glassbox/distributed/launch-environment.h"
#include "glassbox/distributed/world.h"
#include "glassbox/train/data-parallel.h"

namespace CLI {
class App;
}

namespace glassbox::cli {

struct DistributedArgs {
  int nproc_per_node = 1;
  int nnodes = 1;
  int node_rank = 0;
  std::string master_addr;  // empty: 127.0.0.1, or MASTER_ADDR for a launched rank
  int master_port = 0;      // 0: a free port (one machine), else 29500; or MASTER_PORT for a launched rank
  std::string rendezvous = "tcp";
  // The library's defaults (world.h, data-parallel.h).
  double timeout_seconds = std::chrono::duration<double>(distributed::WorldOptions().timeout()).count();
  double bucket_cap_mb = train::DataParallelOptions().bucket_cap_mb();  // training only
  bool no_overlap = false;        // training only
};

void add_distributed_options(CLI::App& cmd, DistributedArgs& args, bool training);

// Checks the flags with the environment (glassbox::Error naming the flag or variable). A process that is
// to start the ranks (--nproc-per-node or --nnodes > 1, and not itself a rank) starts this machine's
// ranks with the same command line, launcher flags removed, waits for them and throws ExitStatus with
// the launcher's status; any other returns the environment it runs in.
distributed::LaunchEnvironment start_ranks_or_continue(const DistributedArgs& args);

// This process's communicator: distributed::join_world with the flags' rendezvous and timeout.
std::shared_ptr<distributed::Communicator> join_world(const DistributedArgs& args, const distributed::LaunchEnvironment& env,
                                                      c10::Device device);

}  // namespace glassbox::cli
