#include "glassbox/distributed/communicator.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cstring>
#include <map>

namespace glassbox::distributed {
namespace {

class SingleProcess final : public Communicator {
 public:
  int rank() const override { return 0; }
  int world_size() const override { return 1; }
  void broadcast(at::Tensor&, int, const char*) override {}
  void all_reduce_sum(at::Tensor&, const char*) override {}
  std::unique_ptr<PendingCollective> start_all_reduce_sum(at::Tensor, const char*) override {
    struct Done final : PendingCollective {
      void wait() override {}
    };
    return std::make_unique<Done>();
  }
  std::vector<at::Tensor> all_gather(const at::Tensor& tensor, const char*) override { return {tensor.clone()}; }
  void barrier(const char*) override {}
};

}  // namespace

std::shared_ptr<Communicator> single_process() { return std::make_shared<SingleProcess>(); }

void broadcast_tensors(Communicator& c, std::vector<at::Tensor>& tensors, int root, const char* what) {
  if (c.world_size() == 1) return;
  // One flat buffer per dtype, in the order the tensors come: the same on every rank.
  std::map<int, std::vector<size_t>> by_dtype;
  for (size_t i = 0; i < tensors.size(); ++i) by_dtype[static_cast<int>(tensors[i].scalar_type())].push_back(i);
  for (const auto& [dtype, members] : by_dtype) {
    std::vector<at::Tensor> flat_parts;
    for (size_t i : members) flat_parts.push_back(tensors[i].detach().reshape({-1}).to(c.device()));
    at::Tensor flat = at::cat(flat_parts);
    c.broadcast(flat, root, what);
    int64_t offset = 0;
    for (size_t i : members) {
      at::Tensor& t = tensors[i];
      t.detach().copy_(flat.narrow(0, offset, t.numel()).view(t.sizes()));
      offset += t.numel();
    }
  }
}

void broadcast_bytes(Communicator& c, std::string& bytes, int root, const char* what) {
  if (c.world_size() == 1) return;
  at::Tensor size = at::full({1}, static_cast<int64_t>(bytes.size()), at::TensorOptions(at::kLong).device(c.device()));
  c.broadcast(size, root, what);
  const int64_t n = size.to(at::kCPU).item<int64_t>();
  at::Tensor buffer = at::empty({std::max<int64_t>(n, 1)}, at::kByte);
  if (c.rank() == root && n > 0) std::memcpy(buffer.data_ptr<uint8_t>(), bytes.data(), static_cast<size_t>(n));
  buffer = buffer.to(c.device());
  c.broadcast(buffer, root, what);
  buffer = buffer.to(at::kCPU);
  bytes.assign(reinterpret_cast<const char*>(buffer.data_ptr<uint8_t>()), static_cast<size_t>(n));
}

at::Tensor all_gather_rows(Communicator& c, const at::Tensor& rows, const char* what) {
  if (c.world_size() == 1) return rows;
  // First the row counts, then every rank's rows padded to the longest.
  const at::Tensor count = at::full({1}, rows.size(0), at::TensorOptions(at::kLong).device(c.device()));
  std::vector<int64_t> n;
  int64_t longest = 0;
  for (const at::Tensor& t : c.all_gather(count, what)) n.push_back(t.to(at::kCPU).item<int64_t>()), longest = std::max(longest, n.back());
  std::vector<int64_t> padded_shape = rows.sizes().vec();
  padded_shape[0] = longest;
  at::Tensor padded = at::zeros(padded_shape, rows.options().device(c.device()));
  padded.narrow(0, 0, rows.size(0)).copy_(rows);
  const std::vector<at::Tensor> all = c.all_gather(padded, what);
  std::vector<at::Tensor> parts;
  for (size_t r = 0; r < all.size(); ++r) parts.push_back(all[r].narrow(0, 0, n[r]).to(rows.device()));
  return at::cat(parts);
}

std::vector<double> all_reduce_sum(Communicator& c, std::vector<double> values, const char* what) {
  if (c.world_size() == 1 || values.empty()) return values;
  at::Tensor t = at::tensor(values, at::kDouble).to(c.device());
  c.all_reduce_sum(t, what);
  const at::Tensor sum = t.to(at::kCPU).contiguous();
  return std::vector<double>(sum.data_ptr<double>(), sum.data_ptr<double>() + sum.numel());
}

void check_equal_across_ranks(Communicator& c, const std::vector<std::pair<std::string, int64_t>>& values) {
  if (c.world_size() == 1 || values.empty()) return;
  std::vector<int64_t> mine;
  for (const auto& v : values) mine.push_back(v.second);
  const at::Tensor local = at::tensor(mine, at::kLong).to(c.device());
  const std::vector<at::Tensor> all = c.all_gather(local, "a consistency check");
  for (size_t r = 0; r < all.size(); ++r) {
    const at::Tensor theirs = all[r].to(at::kCPU);
    for (size_t i = 0; i < values.size(); ++i) {
      const int64_t other = theirs[static_cast<int64_t>(i)].item<int64_t>();
      if (other != mine[i])
        throw DistributedError("rank " + std::to_string(c.rank()) + ": " + values[i].first + " is " +
                               std::to_string(mine[i]) + " here but " + std::to_string(other) + " on rank " +
                               std::to_string(r) + ", expected the same on every rank");
    }
  }
}

}  // namespace glassbox::distributed
