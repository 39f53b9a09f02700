// Per-channel normalisation of [0, 1] pixels, (x - mean) / std, as torchvision's Normalize. The values
// are plain numbers (checkpoint metadata holds them); applying them needs libtorch, declaring them not.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace at {
class Tensor;
}
namespace c10 {
struct Device;
}

namespace glassbox::data {

struct Normalization {
  std::vector<double> mean;  // empty: none
  std::vector<double> std;

  bool enabled() const { return !mean.empty(); }
  // Checks sizes (1 value broadcasts to every channel), that every std is positive and every value
  // finite. Errors name `what` (a flag, a file).
  void validate(int64_t channels, const std::string& what = "normalisation") const;
  at::Tensor apply(const at::Tensor& x) const;   // x: B x C x H x W floats in [0, 1]
  at::Tensor invert(const at::Tensor& x) const;  // back to [0, 1] space, for display
  // The mean and std as [1, C, 1, 1] float tensors on `device`, made once for loops that normalise many
  // batches (x.sub_(mean).div_(std): the same values as apply()).
  void tensors(int64_t channels, const c10::Device& device, at::Tensor& mean, at::Tensor& std) const;
};

}  // namespace glassbox::data
