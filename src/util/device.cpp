#include "glassbox/util/device.h"

#include <torch/cuda.h>

#include "glassbox/util/error.h"

namespace glassbox {

void check_device(const c10::Device& device) {
  GLASSBOX_CHECK_PARAM(device.is_cpu() || device.is_cuda(), "device", device.str(), "expected cpu or cuda[:N]");
  if (device.is_cuda()) {
    GLASSBOX_CHECK_PARAM(torch::cuda::is_available(), "device", device.str(), "CUDA is not available in this libtorch build or on this machine");
    const int64_t count = static_cast<int64_t>(torch::cuda::device_count());
    GLASSBOX_CHECK_PARAM(!device.has_index() || device.index() < count, "device", device.str(), "this machine has ",
                   count, " GPU", count == 1 ? "" : "s");
  }
}

c10::Device parse_device(const std::string& name) {
  c10::Device device(c10::kCPU);
  try {
    device = c10::Device(name);
  } catch (const c10::Error&) {
    throw Error::about("device", name, "unknown device, expected cpu or cuda[:N]");
  }
  check_device(device);
  return device;
}

}  // namespace glassbox
