#include "distributed-flags.h"

#include <CLI/CLI.hpp>

#include <cmath>
#include <cstring>

#include "commands.h"
#include "flags.h"
#include "glassbox/distributed/local-launcher.h"
#include "glassbox/distributed/process-group.h"
#include "glassbox/distributed/world.h"
#include "glassbox/util/error.h"

namespace glassbox::cli {
namespace {

constexpr const char* kLauncherFlags[] = {"--nproc-per-node", "--nnodes", "--node-rank", "--master-addr", "--master-port"};

// The command line without the launcher's own flags ("--flag value" and "--flag=value").
std::vector<std::string> without_launcher_flags(const std::vector<std::string>& argv) {
  std::vector<std::string> out;
  for (size_t i = 0; i < argv.size(); ++i) {
    bool skip = false;
    for (const char* flag : kLauncherFlags) {
      const std::string f = flag;
      if (argv[i] == f) skip = true, ++i;  // and its value
      else if (argv[i].compare(0, f.size() + 1, f + "=") == 0) skip = true;
      if (skip) break;
    }
    if (!skip) out.push_back(argv[i]);
  }
  return out;
}

// A port this machine cannot listen on: refused before any rank starts.
void check_port_free(int port) {
  const std::string why = distributed::port_unavailable(port);
  GLASSBOX_CHECK(why.empty(), "--master-port ", port, ": cannot serve the rendezvous on this machine (", why,
                 "), expected a free port");
}

// The flags checked with the environment; throws glassbox::Error naming the flag or variable.
distributed::LaunchEnvironment check_distributed(const DistributedArgs& a) {
  const distributed::LaunchEnvironment env = distributed::read_launch_environment();
  GLASSBOX_CHECK(a.rendezvous == "tcp" || (a.rendezvous.compare(0, 5, "file:") == 0 && a.rendezvous.size() > 5),
                 "--rendezvous ", printable_excerpt(a.rendezvous), ": expected tcp or file:PATH");
  GLASSBOX_CHECK(a.node_rank < a.nnodes, "--node-rank ", a.node_rank, ": expected 0..", a.nnodes - 1, " (--nnodes ",
                 a.nnodes, ")");
  GLASSBOX_CHECK(a.nnodes == 1 || a.master_addr.size() > 0 || a.rendezvous != "tcp", "--nnodes ", a.nnodes,
                 ": expected --master-addr, node 0's address, with several machines");
  if (env.launched) {
    // A rank: its launcher's environment says everything; the launcher's flags belong to the launcher.
    for (const std::string& arg : command_line())
      for (const char* flag : kLauncherFlags)
        GLASSBOX_CHECK(arg != flag && arg.compare(0, std::strlen(flag) + 1, std::string(flag) + "=") != 0, flag,
                       ": given to a rank that a launcher started (RANK is set): expected only on the launching "
                       "command");
  }
  if (a.rendezvous != "tcp") {
    const std::string path = a.rendezvous.substr(5);
    for_flag("--rendezvous", a.rendezvous, [&] {
      distributed::validate(distributed::ProcessGroupOptions().world_size(2).rendezvous(
          distributed::RendezvousOptions().kind(distributed::RendezvousKind::file).file(path)));
    });
  }
  return env;
}

// True when this process is to start the ranks (--nproc-per-node or --nnodes > 1, not itself a rank).
bool starts_ranks(const DistributedArgs& a, const distributed::LaunchEnvironment& env) {
  return !env.launched && (a.nproc_per_node > 1 || a.nnodes > 1);
}

// Starts this machine's ranks and waits; throws ExitStatus with the launcher's status.
[[noreturn]] void run_ranks(const DistributedArgs& a) {
  distributed::LocalLaunchOptions o;
  o.nproc_per_node(a.nproc_per_node).nnodes(a.nnodes).node_rank(a.node_rank);
  o.master_addr(a.master_addr.empty() ? "127.0.0.1" : a.master_addr);
  int port = a.master_port;
  if (port == 0) port = a.nnodes == 1 ? distributed::free_local_port() : 29500;
  else if (a.node_rank == 0 && a.rendezvous == "tcp") check_port_free(port);
  o.master_port(port);
  throw ExitStatus{distributed::launch_local_ranks("/proc/self/exe", without_launcher_flags(command_line()), o)};
}

}  // namespace

void add_distributed_options(CLI::App& cmd, DistributedArgs& a, bool training) {
  add_integer(cmd, "--nproc-per-node", a.nproc_per_node, 1, 1024,
              "ranks to start on this machine (each a process; torchrun's flag)");
  add_integer(cmd, "--nnodes", a.nnodes, 1, 4096, "machines taking part (run the same command on each)");
  add_integer(cmd, "--node-rank", a.node_rank, 0, 4095, "this machine, 0..nnodes-1 (0 serves the rendezvous)");
  cmd.add_option("--master-addr", a.master_addr, "the address of node 0 (default 127.0.0.1)");
  add_integer(cmd, "--master-port", a.master_port, 1, 65535,
              "node 0's rendezvous port (default: a free port on one machine, else 29500)");
  cmd.add_option("--rendezvous", a.rendezvous,
                 "tcp (a store served by rank 0 at the master address) or file:PATH (a new file on a filesystem "
                 "every rank shares)")
      ->capture_default_str();
  add_real(cmd, "--dist-timeout", a.timeout_seconds, [](double v) { return v >= 1 && v <= 86400; },
           "seconds in [1, 86400]", "seconds a rank waits for the others before stopping (rendezvous and every "
                                    "collective)");
  if (training) {
    add_real(cmd, "--bucket-cap-mb", a.bucket_cap_mb, [](double v) { return v >= 0 && v <= 1 << 20; },
             "a size in MiB, 0..1048576", "gradients are all-reduced in buckets of this size (0: one per parameter)");
    cmd.add_flag("--no-overlap", a.no_overlap, "all-reduce gradients after backward instead of during it");
  }
}

distributed::LaunchEnvironment start_ranks_or_continue(const DistributedArgs& a) {
  const distributed::LaunchEnvironment env = check_distributed(a);
  if (starts_ranks(a, env)) run_ranks(a);
  return env;
}

std::shared_ptr<distributed::Communicator> join_world(const DistributedArgs& a, const distributed::LaunchEnvironment& env,
                                                      c10::Device device) {
  const auto timeout = std::chrono::milliseconds(static_cast<int64_t>(std::llround(a.timeout_seconds * 1000)));
  return distributed::join_world(distributed::WorldOptions()
                                     .device(device)
                                     .rendezvous_file(a.rendezvous == "tcp" ? "" : a.rendezvous.substr(5))
                                     .timeout(timeout),
                                 env)
      .communicator;
}

}  // namespace glassbox::cli
