// Tensors Python wrote at test time as raw bytes (numpy's tobytes: C order, little endian), read back
// for comparison. Each checks the file holds exactly the expected number of elements.
#pragma once

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "glassbox/util/file-bytes.h"

namespace glassbox::testing {

inline at::Tensor raw_tensor(const std::string& path, at::IntArrayRef shape, at::ScalarType type) {
  const std::string bytes = read_file(path);
  at::Tensor t = at::empty(shape, type);
  const size_t want = size_t(t.numel()) * t.element_size();
  EXPECT_EQ(bytes.size(), want) << path;
  std::memcpy(t.data_ptr(), bytes.data(), std::min(bytes.size(), want));
  return t;
}

inline at::Tensor raw_floats(const std::string& path, at::IntArrayRef shape) { return raw_tensor(path, shape, at::kFloat); }
inline at::Tensor raw_longs(const std::string& path, at::IntArrayRef shape) { return raw_tensor(path, shape, at::kLong); }

}  // namespace glassbox::testing
