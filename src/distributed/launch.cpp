#include "glassbox/distributed/launch.h"

#include <cmath>

#include "glassbox/distributed/local-launcher.h"
#include "glassbox/distributed/process-group.h"
#include "glassbox/util/error.h"

namespace glassbox::distributed {
namespace {

bool file_rendezvous(const LaunchOptions& o) { return o.rendezvous().compare(0, 5, "file:") == 0; }

}  // namespace

void validate(const LaunchOptions& o) {
  GLASSBOX_CHECK_PARAM(o.nproc_per_node() >= 1 && o.nproc_per_node() <= 1024, "nproc_per_node", o.nproc_per_node(),
                       "expected 1..1024");
  GLASSBOX_CHECK_PARAM(o.nnodes() >= 1 && o.nnodes() <= 4096, "nnodes", o.nnodes(), "expected 1..4096");
  GLASSBOX_CHECK_PARAM(o.node_rank() >= 0 && o.node_rank() < o.nnodes(), "node_rank", o.node_rank(), "expected 0..",
                       o.nnodes() - 1, " (nnodes ", o.nnodes(), ")");
  GLASSBOX_CHECK_PARAM(o.rendezvous() == "tcp" || (file_rendezvous(o) && o.rendezvous().size() > 5), "rendezvous",
                       o.rendezvous(), "expected tcp or file:PATH");
  GLASSBOX_CHECK_PARAM(o.nnodes() == 1 || !o.master_addr().empty() || o.rendezvous() != "tcp", "nnodes", o.nnodes(),
                       "expected master_addr, node 0's address, with several machines");
  GLASSBOX_CHECK_PARAM(std::isfinite(o.timeout_seconds()) && o.timeout_seconds() >= 1 && o.timeout_seconds() <= 86400,
                       "timeout_seconds", o.timeout_seconds(), "expected seconds in [1, 86400]");
  if (file_rendezvous(o)) {
    try {
      distributed::validate(ProcessGroupOptions().world_size(2).rendezvous(
          RendezvousOptions().kind(RendezvousKind::file).file(o.rendezvous().substr(5))));
    } catch (const Error& e) {
      throw Error::about("rendezvous", o.rendezvous(), e.parameter().empty() ? e.what() : e.reason());
    }
  }
}

bool starts_ranks(const LaunchOptions& o, const LaunchEnvironment& env) {
  return !env.launched && (o.nproc_per_node() > 1 || o.nnodes() > 1);
}

int launch_ranks(const LaunchOptions& o, const std::string& program, const std::vector<std::string>& arguments) {
  int port = o.master_port();
  if (port == 0) {
    port = o.nnodes() == 1 ? free_local_port() : 29500;
  } else if (o.node_rank() == 0 && o.rendezvous() == "tcp") {
    const std::string why = port_unavailable(port);
    GLASSBOX_CHECK_PARAM(why.empty(), "master_port", port, "cannot serve the rendezvous on this machine (", why,
                         "), expected a free port");
  }
  return launch_local_ranks(program, arguments,
                            LocalLaunchOptions()
                                .nproc_per_node(o.nproc_per_node())
                                .nnodes(o.nnodes())
                                .node_rank(o.node_rank())
                                .master_addr(o.master_addr().empty() ? "127.0.0.1" : o.master_addr())
                                .master_port(port));
}

WorldOptions world_options(const LaunchOptions& o, c10::Device device) {
  return WorldOptions()
      .device(device)
      .rendezvous_file(file_rendezvous(o) ? o.rendezvous().substr(5) : "")
      .timeout(std::chrono::milliseconds(static_cast<int64_t>(std::llround(o.timeout_seconds() * 1000))));
}

}  // namespace glassbox::distributed
