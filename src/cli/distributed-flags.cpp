#include "distributed-flags.h"

#include <CLI/CLI.hpp>

#include <cstring>

#include "commands.h"
#include "flags.h"
#include "glassbox/distributed/world.h"
#include "glassbox/util/error.h"

namespace glassbox::cli {
namespace {

constexpr const char* kLauncherFlags[] = {"--nproc-per-node", "--nnodes", "--node-rank", "--master-addr", "--master-port"};

bool is_flag(const std::string& arg, const std::string& flag) { return arg == flag || arg.compare(0, flag.size() + 1, flag + "=") == 0; }

// The command line without the launcher's own flags ("--flag value" and "--flag=value").
std::vector<std::string> without_launcher_flags(const std::vector<std::string>& argv) {
  std::vector<std::string> out;
  for (size_t i = 0; i < argv.size(); ++i) {
    bool skip = false;
    for (const char* flag : kLauncherFlags)
      if (is_flag(argv[i], flag)) skip = true, i += argv[i] == flag;  // and its value
    if (!skip) out.push_back(argv[i]);
  }
  return out;
}

const ParamFlags kParamFlags = {{"nproc_per_node", "--nproc-per-node"}, {"nnodes", "--nnodes"},
                                {"node_rank", "--node-rank"},           {"rendezvous", "--rendezvous"},
                                {"master_port", "--master-port"},       {"timeout_seconds", "--dist-timeout"}};

}  // namespace

void add_distributed_options(CLI::App& cmd, DistributedArgs& a, bool training) {
  add_integer(cmd, "--nproc-per-node", a.launch.nproc_per_node(), 1, 1024,
              "ranks to start on this machine (each a process; torchrun's flag)");
  add_integer(cmd, "--nnodes", a.launch.nnodes(), 1, 4096, "machines taking part (run the same command on each)");
  add_integer(cmd, "--node-rank", a.launch.node_rank(), 0, 4095, "this machine, 0..nnodes-1 (0 serves the rendezvous)");
  cmd.add_option("--master-addr", a.launch.master_addr(), "the address of node 0 (default 127.0.0.1)");
  add_integer(cmd, "--master-port", a.launch.master_port(), 1, 65535,
              "node 0's rendezvous port (default: a free port on one machine, else 29500)");
  cmd.add_option("--rendezvous", a.launch.rendezvous(),
                 "tcp (a store served by rank 0 at the master address) or file:PATH (a new file on a filesystem "
                 "every rank shares)")
      ->capture_default_str();
  add_real(cmd, "--dist-timeout", a.launch.timeout_seconds(), [](double v) { return v >= 1 && v <= 86400; },
           "seconds in [1, 86400]", "seconds a rank waits for the others before stopping (rendezvous and every "
                                    "collective)");
  if (!training) return;
  add_real(cmd, "--bucket-cap-mb", a.data_parallel.bucket_cap_mb(), [](double v) { return v >= 0 && v <= 1 << 20; },
           "a size in MiB, 0..1048576", "gradients are all-reduced in buckets of this size (0: one per parameter)");
  cmd.add_flag("--no-overlap", a.no_overlap, "all-reduce gradients after backward instead of during it");
}

distributed::LaunchEnvironment start_ranks_or_continue(const DistributedArgs& a) {
  const distributed::LaunchEnvironment env = distributed::read_launch_environment();
  for_params(kParamFlags, [&] { distributed::validate(a.launch); });
  if (env.launched)  // a rank: its launcher's environment says everything
    for (const std::string& arg : command_line())
      for (const char* flag : kLauncherFlags)
        GLASSBOX_CHECK(!is_flag(arg, flag), flag, ": given to a rank that a launcher started (RANK is set): expected only "
                                                  "on the launching command");
  if (distributed::starts_ranks(a.launch, env))
    throw ExitStatus{for_params(kParamFlags, [&] {
      return distributed::launch_ranks(a.launch, "/proc/self/exe", without_launcher_flags(command_line()));
    })};
  return env;
}

std::shared_ptr<distributed::Communicator> join_world(const DistributedArgs& a, const distributed::LaunchEnvironment& env,
                                                      c10::Device device) {
  return distributed::join_world(distributed::world_options(a.launch, device), env).communicator;
}

}  // namespace glassbox::cli
