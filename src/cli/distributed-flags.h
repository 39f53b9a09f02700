// The flags that spread a command over ranks, as torchrun's: this machine's ranks started by glassbox
// itself (--nproc-per-node), several machines (--nnodes, --node-rank, --master-addr, --master-port),
// or ranks started by another launcher (torchrun's environment: RANK, WORLD_SIZE, ...).
#pragma once

#include <c10/core/Device.h>

#include <memory>
#include <string>

#include "glassbox/distributed/communicator.h"
#include "glassbox/distributed/launch-environment.h"

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
  double timeout_seconds = 120;
  double bucket_cap_mb = 25;      // training only
  bool no_overlap = false;        // training only
};

void add_distributed_options(CLI::App& cmd, DistributedArgs& args, bool training);

// Checks the flags with the environment; throws glassbox::Error naming the flag or variable.
distributed::LaunchEnvironment check_distributed(const DistributedArgs& args);

// True when this process is to start the ranks (--nproc-per-node or --nnodes > 1, not itself a rank).
bool starts_ranks(const DistributedArgs& args, const distributed::LaunchEnvironment& env);

// Starts this machine's ranks with the same command line (launcher flags removed) and waits; throws
// ExitStatus with the launcher's status.
[[noreturn]] void run_ranks(const DistributedArgs& args);

// This process's communicator: a world of one, or the launched world joined (rendezvous and all).
// The device a rank works on: `cuda` without an index is this rank's own GPU, cuda:LOCAL_RANK (as
// torchrun's users set it); anything else as given.
c10::Device rank_device(c10::Device device, const distributed::LaunchEnvironment& env);
// Joins the world `env` describes (a world of one without it): over NCCL for a CUDA device, else Gloo.
std::shared_ptr<distributed::Communicator> join_world(const DistributedArgs& args, const distributed::LaunchEnvironment& env,
                                                      c10::Device device);

}  // namespace glassbox::cli
