// How a program spreads itself over ranks, as torchrun does: this machine's ranks started by the
// program itself (nproc_per_node), several machines (nnodes, node_rank, master_addr, master_port), or
// ranks another launcher started (torchrun's environment: RANK, WORLD_SIZE, ...). A program checks its
// options, starts its ranks if it is the launcher, and otherwise joins the world:
//
//   const auto env = glassbox::distributed::read_launch_environment();
//   glassbox::distributed::validate(launch);
//   if (glassbox::distributed::starts_ranks(launch, env)) return glassbox::distributed::launch_ranks(launch, program, args);
//   auto world = glassbox::distributed::join_world(glassbox::distributed::world_options(launch, device), env);
#pragma once

#include <c10/core/Device.h>

#include <string>
#include <vector>

#include "glassbox/distributed/launch-environment.h"
#include "glassbox/distributed/world.h"
#include "glassbox/util/arg.h"

namespace glassbox::distributed {

struct LaunchOptions {
  GLASSBOX_ARG(int, nproc_per_node) = 1;  // ranks to start on this machine
  GLASSBOX_ARG(int, nnodes) = 1;          // machines taking part (the same program runs on each)
  GLASSBOX_ARG(int, node_rank) = 0;       // this machine, 0..nnodes-1 (0 serves the rendezvous)
  GLASSBOX_ARG(std::string, master_addr);  // node 0's address; empty: 127.0.0.1 (or MASTER_ADDR for a launched rank)
  // Node 0's rendezvous port; 0: a free port on one machine, else 29500 (or MASTER_PORT for a launched rank).
  GLASSBOX_ARG(int, master_port) = 0;
  // "tcp" (a store served by rank 0 at the master address) or "file:PATH" (a new file on a filesystem
  // every rank shares).
  GLASSBOX_ARG(std::string, rendezvous) = "tcp";
  // Seconds a rank waits for the others (rendezvous and every collective).
  GLASSBOX_ARG(double, timeout_seconds) = 120;
};

// Throws glassbox::Error::about the option (nproc_per_node, node_rank, nnodes, rendezvous,
// timeout_seconds) when the options cannot work.
void validate(const LaunchOptions& options);

// Whether this process is to start the ranks: asked for several, and not itself a launched rank.
bool starts_ranks(const LaunchOptions& options, const LaunchEnvironment& environment);

// Starts this machine's ranks, each running `program` with `arguments`, waits for them, and returns
// the launcher's status (local-launcher.h). A master_port that node 0 cannot listen on is refused
// before any rank starts.
int launch_ranks(const LaunchOptions& options, const std::string& program, const std::vector<std::string>& arguments);

// The options a rank joins the world with.
WorldOptions world_options(const LaunchOptions& options, c10::Device device);

}  // namespace glassbox::distributed
