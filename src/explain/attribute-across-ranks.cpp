#include <ATen/ATen.h>

#include "glassbox/distributed/world.h"
#include "glassbox/explain/methods.h"

namespace glassbox::explain {

at::Tensor attribute_across_ranks(const AttributionMethod& method, const AttributionRequest& r,
                                  distributed::Communicator& world) {
  // A method that reads the whole batch would mean something else on a block of it: every rank runs it
  // on all rows (its random draws are seeded alike, so they agree).
  if (method.reads_batch()) return method.attribute(r).detach().to(at::kCPU);
  const int64_t B = r.x.size(0), W = world.world_size();
  // One block a rank: a batch of ceil(B / W) rows each.
  return distributed::sharded_rows(world, B, (B + W - 1) / W, [&](int64_t begin, int64_t end) {
    const at::Tensor x = r.x.slice(0, begin, end), targets = r.targets.slice(0, begin, end);
    return method.attribute({r.model, x, targets, r.options}).detach();
  }, "attributions");
}

}  // namespace glassbox::explain
