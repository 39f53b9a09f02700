#include "glassbox/train/data-parallel.h"

#include "optimizer-state.h"

#include <ATen/ATen.h>
#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <chrono>
#include <cstring>

#include "glassbox/models/architectures.h"

namespace glassbox::train {
namespace {

using Clock = std::chrono::steady_clock;

}  // namespace

// A flat buffer holding some parameters' gradients back to back (bucket 0 also carries the step's
// loss in its last element), all-reduced as one.
struct DataParallel::Bucket {
  at::Tensor flat;
  std::vector<size_t> parameters;
  size_t missing = 0;  // gradients not yet in `flat` this step
  bool launched = false;
  std::unique_ptr<distributed::PendingCollective> pending;
};

DataParallel::DataParallel(std::shared_ptr<distributed::Communicator> communicator, DataParallelOptions options)
    : communicator_(std::move(communicator)), options_(std::move(options)) {
  GLASSBOX_CHECK(communicator_ != nullptr, "DataParallel: no communicator");
  GLASSBOX_CHECK(options_.bucket_cap_mb() >= 0 && options_.bucket_cap_mb() <= 1 << 20, "bucket_cap_mb ",
                 options_.bucket_cap_mb(), ": expected 0..1048576 (0: a bucket per parameter)");
}

DataParallel::~DataParallel() { detach(); }

void DataParallel::detach() {
  for (size_t k = 0; k < hooks_.size(); ++k) parameters_[k].remove_hook(hooks_[k]);
  hooks_.clear();
  armed_ = false;
}

int64_t DataParallel::bucket_count() const { return static_cast<int64_t>(buckets_.size()); }

void DataParallel::broadcast_state(models::ModuleClassifier& model, torch::optim::Optimizer& optimizer) {
  distributed::Communicator& c = *communicator_;
  if (c.world_size() == 1) return;
  std::vector<at::Tensor> state = model.module().parameters();
  for (const at::Tensor& buffer : model.module().buffers()) state.push_back(buffer);
  distributed::broadcast_tensors(c, state, 0, "initial parameters");
  std::string bytes;
  if (c.rank() == 0) {
    torch::serialize::OutputArchive archive;
    optimizer.save(archive);
    archive.save_to([&](const void* data, size_t size) {
      bytes.append(static_cast<const char*>(data), size);
      return size;
    });
  }
  distributed::broadcast_bytes(c, bytes, 0, "optimizer state");
  if (c.rank() != 0) {
    torch::serialize::InputArchive archive;
    archive.load_from(bytes.data(), bytes.size(), c10::Device(c10::kCPU));
    optimizer.load(archive);
    if (!state.empty()) move_optimizer_state(optimizer, state.front().device());
  }
}

at::Tensor DataParallel::shard(const at::Tensor& order) const {
  const int64_t n = order.size(0), world = world_size();
  if (world == 1) return order;
  const int64_t per_rank = (n + world - 1) / world;
  at::Tensor padded = order;
  // DistributedSampler repeats the order's start (several times over when n < world).
  while (padded.size(0) < per_rank * world)
    padded = at::cat({padded, order.narrow(0, 0, std::min(n, per_rank * world - padded.size(0)))});
  return padded.slice(0, rank(), per_rank * world, world).contiguous();
}

at::Tensor DataParallel::shard_without_padding(int64_t n) const {
  return at::arange(rank(), n, world_size(), at::kLong);
}

void DataParallel::attach(std::vector<at::Tensor> parameters) {
  detach();
  parameters_ = std::move(parameters);
  buckets_.clear();
  slot_of_.assign(parameters_.size(), {0, 0});
  wait_seconds_ = 0;
  if (world_size() == 1) return;
  // As DDP: buckets in reverse order of the parameters (backward produces the last layers' gradients
  // first), a new one when the cap is reached or the dtype or device changes.
  const double cap_bytes = options_.bucket_cap_mb() * 1024 * 1024;
  std::vector<std::vector<size_t>> groups;
  double bytes = 0;
  for (size_t k = parameters_.size(); k-- > 0;) {
    const at::Tensor& p = parameters_[k];
    const bool fits = !groups.empty() && bytes + double(p.nbytes()) <= cap_bytes &&
                      parameters_[groups.back().front()].scalar_type() == p.scalar_type() &&
                      parameters_[groups.back().front()].device() == p.device();
    if (!fits) groups.emplace_back(), bytes = 0;
    groups.back().push_back(k);
    bytes += double(p.nbytes());
  }
  for (size_t b = 0; b < groups.size(); ++b) {
    auto bucket = std::make_unique<Bucket>();
    int64_t size = 0;
    for (size_t k : groups[b]) slot_of_[k] = {b, size}, size += parameters_[k].numel();
    const at::Tensor& first = parameters_[groups[b].front()];
    bucket->flat = at::zeros({size + (b == 0 ? 1 : 0)}, first.options().requires_grad(false));
    bucket->parameters = groups[b];
    buckets_.push_back(std::move(bucket));
  }
  if (options_.overlap_backward())
    for (size_t k = 0; k < parameters_.size(); ++k)
      hooks_.push_back(parameters_[k].register_hook([this, k](const at::Tensor& gradient) { on_gradient(k, gradient); }));
}

void DataParallel::begin_step(const at::Tensor& loss) {
  if (world_size() == 1) return;
  for (auto& b : buckets_) b->missing = b->parameters.size(), b->launched = false, b->pending.reset();
  next_launch_ = 0;
  Bucket& first = *buckets_.front();
  first.flat.narrow(0, first.flat.size(0) - 1, 1).copy_(loss.detach().reshape({1}));
  armed_ = true;
}

void DataParallel::on_gradient(size_t k, const at::Tensor& gradient) {
  if (!armed_) return;  // a backward that is not the training step's
  const auto [b, offset] = slot_of_[k];
  Bucket& bucket = *buckets_[b];
  GLASSBOX_CHECK(!bucket.launched, "DataParallel: a parameter received a second gradient in one backward (used twice "
                                   "in the forward): train with overlap_backward(false)");
  bucket.flat.narrow(0, offset, parameters_[k].numel()).copy_(gradient.reshape({-1}));
  if (--bucket.missing == 0) launch_ready_buckets();
}

// In bucket order on every rank, whatever order backward finished them in: collectives must match.
void DataParallel::launch_ready_buckets() {
  while (next_launch_ < buckets_.size() && buckets_[next_launch_]->missing == 0) {
    Bucket& bucket = *buckets_[next_launch_++];
    bucket.launched = true;
    bucket.pending = communicator_->start_all_reduce_sum(bucket.flat, "gradients");
  }
}

at::Tensor DataParallel::finish_step() {
  GLASSBOX_CHECK(world_size() > 1, "DataParallel: finish_step in a world of one");
  armed_ = false;
  const auto start = Clock::now();
  // Without overlap (or for parameters backward did not reach): gradients are copied in now.
  for (auto& bucket : buckets_) {
    if (bucket->missing == 0) continue;
    for (size_t k : bucket->parameters) {
      const at::Tensor& g = parameters_[k].grad();
      at::Tensor slot = bucket->flat.narrow(0, slot_of_[k].second, parameters_[k].numel());
      g.defined() ? slot.copy_(g.reshape({-1})) : slot.zero_();
    }
    bucket->missing = 0;
  }
  launch_ready_buckets();
  const double world = world_size();
  for (auto& bucket : buckets_) {
    bucket->pending->wait();
    bucket->pending.reset();
    bucket->flat.div_(world);
    // The averaged gradient becomes .grad as a view of the bucket: no copy back.
    for (size_t k : bucket->parameters)
      parameters_[k].mutable_grad() =
          bucket->flat.narrow(0, slot_of_[k].second, parameters_[k].numel()).view(parameters_[k].sizes());
  }
  wait_seconds_ += std::chrono::duration<double>(Clock::now() - start).count();
  const at::Tensor& first = buckets_.front()->flat;
  return first.narrow(0, first.size(0) - 1, 1).squeeze(0);
}

}  // namespace glassbox::train
