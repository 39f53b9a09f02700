// The one owner of devices: parsing a device's name and checking that this libtorch and this machine
// have it. Every command and the library go through here.
#pragma once

#include <c10/core/Device.h>

#include <string>

namespace glassbox {

// "cpu", "cuda", "cuda:1": the device, or glassbox::Error ("device 'x': ...") when the name is not a
// device, or names CUDA where this libtorch build or machine has none (or not that many GPUs).
c10::Device parse_device(const std::string& name);

// Throws unless `device` is a CPU or an available CUDA device.
void check_device(const c10::Device& device);

}  // namespace glassbox
