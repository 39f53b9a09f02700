// torchrun's environment, the contract every launcher follows (torchrun, Slurm and Kubernetes
// wrappers, glassbox's own --nproc-per-node): RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE,
// MASTER_ADDR, MASTER_PORT, and the job's name TORCHELASTIC_RUN_ID.
#pragma once

#include <functional>
#include <string>

namespace glassbox::distributed {

struct LaunchEnvironment {
  bool launched = false;  // RANK and WORLD_SIZE were set
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;        // LOCAL_RANK, else RANK
  int local_world_size = 1;  // LOCAL_WORLD_SIZE, else WORLD_SIZE
  std::string master_addr;   // empty when unset
  int master_port = 0;       // 0 when unset
  std::string run_id;        // TORCHELASTIC_RUN_ID: the job's name, shared by its ranks; empty when unset
};

using GetEnvironment = std::function<const char*(const char*)>;

// Reads the variables through `get` (std::getenv by default). Throws glassbox::Error, one line naming
// the variable, its value and what was expected: WORLD_SIZE without RANK (or the reverse), a rank
// outside 0..WORLD_SIZE-1, a port outside 1..65535, anything that is not a whole number, a run id
// longer than 128 characters or with characters outside printable ASCII.
LaunchEnvironment read_launch_environment(const GetEnvironment& get = GetEnvironment());

}  // namespace glassbox::distributed
