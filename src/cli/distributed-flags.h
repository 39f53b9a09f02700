// The flags that spread a command over ranks (distributed/launch.h), as torchrun's.
#pragma once

#include <c10/core/Device.h>

#include <memory>

#include "glassbox/distributed/communicator.h"
#include "glassbox/distributed/launch.h"
#include "glassbox/train/data-parallel.h"

namespace CLI {
class App;
}

namespace glassbox::cli {

struct DistributedArgs {
  distributed::LaunchOptions launch;
  train::DataParallelOptions data_parallel;  // training only
  bool no_overlap = false;                   // training only
};

void add_distributed_options(CLI::App& cmd, DistributedArgs& args, bool training);

// Checks the flags with the environment. A process that is to start the ranks starts this machine's
// ranks with the same command line, launcher flags removed, waits for them and throws ExitStatus with
// the launcher's status; any other returns the environment it runs in.
distributed::LaunchEnvironment start_ranks_or_continue(const DistributedArgs& args);

// This process's communicator on `device`.
std::shared_ptr<distributed::Communicator> join_world(const DistributedArgs& args, const distributed::LaunchEnvironment& env,
                                                      c10::Device device);

}  // namespace glassbox::cli
