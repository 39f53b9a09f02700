#include "glassbox/distributed/world.h"

#include <ATen/ATen.h>

#include <vector>

#include "glassbox/distributed/process-group.h"
#include "glassbox/util/error.h"

namespace glassbox::distributed {
namespace {

RendezvousOptions rendezvous_of(const WorldOptions& o, const LaunchEnvironment& env) {
  RendezvousOptions r;
  if (!o.rendezvous_file().empty()) return r.kind(RendezvousKind::file).file(o.rendezvous_file());
  GLASSBOX_CHECK(!env.master_addr.empty(), "environment MASTER_ADDR is not set: expected rank 0's address, as torchrun "
                                           "sets it (or a rendezvous file)");
  GLASSBOX_CHECK(env.master_port != 0, "environment MASTER_PORT is not set: expected rank 0's port, as torchrun sets it "
                                       "(or a rendezvous file)");
  return r.master_addr(env.master_addr).master_port(env.master_port);
}

}  // namespace

c10::Device rank_device(c10::Device device, const LaunchEnvironment& env) {
  if (!device.is_cuda() || device.has_index() || !env.launched) return device;
  return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(env.local_rank));
}

World join_world(const WorldOptions& o, const LaunchEnvironment& env) {
  World w;
  w.environment = env;
  w.device = rank_device(o.device(), env);
  if (!env.launched || env.world_size == 1) {
    w.communicator = single_process();
    return w;
  }
  const Backend backend = w.device.is_cuda() ? Backend::nccl : Backend::gloo;
  GLASSBOX_CHECK(backend_available(backend), "device ", w.device.str(), " with ", env.world_size,
                 " ranks: expected a glassbox built against a LibTorch with NCCL");
  w.communicator = connect(ProcessGroupOptions()
                               .rank(env.rank)
                               .world_size(env.world_size)
                               .rendezvous(rendezvous_of(o, env))
                               .timeout(o.timeout())
                               .backend(backend)
                               .run_id(env.run_id)
                               .device_index(w.device.is_cuda() ? w.device.index() : env.local_rank));
  return w;
}

at::Tensor sharded_rows(Communicator& world, int64_t rows, int64_t batch_size,
                        const std::function<at::Tensor(int64_t, int64_t)>& run, const std::string& what) {
  GLASSBOX_CHECK(rows >= 1 && batch_size >= 1, what, ": ", rows, " rows in batches of ", batch_size,
                 ", expected at least one of each");
  const int64_t W = world.world_size(), batches = (rows + batch_size - 1) / batch_size;
  std::vector<at::Tensor> chunks;
  for (int64_t b = world.rank(); b < batches; b += W)
    chunks.push_back(run(b * batch_size, std::min(rows, (b + 1) * batch_size)).to(at::kCPU).contiguous());
  // A rank without a batch learns the rows' shape and type from one row, and sends none.
  const at::Tensor mine = chunks.empty() ? run(0, 1).to(at::kCPU).narrow(0, 0, 0).contiguous() : at::cat(chunks);
  const at::Tensor gathered = all_gather_rows(world, mine, what.c_str());
  if (W == 1) return gathered;
  // The gathered rows are in rank order; each batch goes back to its place.
  std::vector<at::Tensor> in_order(static_cast<size_t>(batches));
  int64_t offset = 0;
  for (int64_t r = 0; r < W; ++r)
    for (int64_t b = r; b < batches; b += W) {
      const int64_t n = std::min(rows, (b + 1) * batch_size) - b * batch_size;
      in_order[static_cast<size_t>(b)] = gathered.narrow(0, offset, n);
      offset += n;
    }
  return at::cat(in_order);
}

}  // namespace glassbox::distributed
