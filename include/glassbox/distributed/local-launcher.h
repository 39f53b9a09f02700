// Starting this machine's ranks, as torchrun does: one process per rank, each given torchrun's
// environment; if one fails, the others are stopped and the launcher reports the one that failed.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "glassbox/util/arg.h"

namespace glassbox::distributed {

struct LocalLaunchOptions {
  GLASSBOX_ARG(int, nproc_per_node) = 1;                // ranks on this machine
  GLASSBOX_ARG(int, nnodes) = 1;                        // machines
  GLASSBOX_ARG(int, node_rank) = 0;                     // this machine, 0..nnodes-1 (0 serves the store)
  GLASSBOX_ARG(std::string, master_addr) = "127.0.0.1";
  GLASSBOX_ARG(int, master_port) = 29500;
  // After a failure, how long the other ranks get between SIGTERM and SIGKILL.
  GLASSBOX_ARG(std::chrono::milliseconds, stop_grace) = std::chrono::seconds(5);
};

// Throws glassbox::Error naming the option when the options cannot work.
void validate(const LocalLaunchOptions& options);

// The first free TCP port on the loopback interface (for a single machine's rendezvous).
int free_local_port();
// Why this machine cannot listen on `port` (strerror's words), or "" when it can.
std::string port_unavailable(int port);

// Runs `program` with `arguments` once per local rank with RANK, WORLD_SIZE, LOCAL_RANK,
// LOCAL_WORLD_SIZE, MASTER_ADDR and MASTER_PORT set, and waits. Returns 0 when every rank succeeded;
// otherwise stops the others (SIGTERM, then SIGKILL after stop_grace) and returns the failure's exit
// status (1 for a rank killed by a signal). Ranks' standard output passes through; their standard
// error is forwarded line by line (ranks other than 0 prefixed "[rank N] "), except their error lines,
// of which only the failure that stopped the run is printed: a rank killed by a signal first, then a
// rank that failed on its own (status 2: bad input), then one that failed because another did (1).
// A SIGINT or SIGTERM to the launcher stops every rank. Ranks die with the launcher (PDEATHSIG).
int launch_local_ranks(const std::string& program, const std::vector<std::string>& arguments,
                       const LocalLaunchOptions& options);

}  // namespace glassbox::distributed
