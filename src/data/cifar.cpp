#include "glassbox/data/cifar.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "glassbox/data/class-names.h"
#include "glassbox/util/error.h"
#include "glassbox/util/file-bytes.h"

namespace fs = std::filesystem;

namespace glassbox::data {
namespace {

constexpr int64_t kPixels = 3 * 32 * 32;

bool is_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

}  // namespace

CifarKind detect_cifar(const std::string& dir) {
  const fs::path d(dir);
  if (is_file(d / "data_batch_1.bin") || is_file(d / "test_batch.bin")) return CifarKind::cifar10;
  if ((is_file(d / "train.bin") || is_file(d / "test.bin")) && is_file(d / "fine_label_names.txt")) return CifarKind::cifar100;
  return CifarKind::none;
}

Dataset load_cifar(const std::string& dir, CifarKind kind, Split split) {
  const fs::path d(dir);
  const bool ten = kind == CifarKind::cifar10;
  std::vector<fs::path> files;
  if (ten && split == Split::train) {
    for (int i = 1; i <= 5; ++i) {
      const fs::path p = d / ("data_batch_" + std::to_string(i) + ".bin");
      if (is_file(p)) files.push_back(p);
    }
    GLASSBOX_CHECK(!files.empty(), dir, ": no data_batch_*.bin files (CIFAR-10's training batches)");
  } else {
    files.push_back(d / (ten ? "test_batch.bin" : split == Split::train ? "train.bin" : "test.bin"));
    GLASSBOX_CHECK(is_file(files.back()), files.back().string(), ": no such file (a CIFAR batch)");
  }
  const int64_t label_bytes = ten ? 1 : 2, row = label_bytes + kPixels, classes = ten ? 10 : 100;
  std::vector<std::string> contents;
  int64_t n = 0;
  for (const fs::path& p : files) {
    contents.push_back(read_file(p.string(), uint64_t(4) << 30));
    const int64_t size = static_cast<int64_t>(contents.back().size());
    GLASSBOX_CHECK(size > 0 && size % row == 0, p.string(), ": ", size, " bytes, expected a whole number of ", row,
                   "-byte rows (", label_bytes == 1 ? "a label byte" : "two label bytes", " and 3,072 pixel bytes each)");
    n += size / row;
  }
  at::Tensor images = at::empty({n, 3, 32, 32}, at::kByte);
  at::Tensor labels = at::empty({n}, at::kLong);
  uint8_t* px = images.data_ptr<uint8_t>();
  int64_t* lb = labels.data_ptr<int64_t>();
  int64_t i = 0;
  for (size_t f = 0; f < files.size(); ++f) {
    const std::string& c = contents[f];
    for (int64_t r = 0; r < static_cast<int64_t>(c.size()) / row; ++r, ++i) {
      const char* at = c.data() + r * row;
      const int64_t label = static_cast<uint8_t>(at[label_bytes - 1]);  // CIFAR-100: the fine label, second
      GLASSBOX_CHECK(label < classes, files[f].string(), ": label ", label, " in row ", r, ", expected 0..", classes - 1);
      lb[i] = label;
      std::memcpy(px + i * kPixels, at + label_bytes, kPixels);  // already channel-major, as a tensor wants
    }
  }
  const fs::path names = d / (ten ? "batches.meta.txt" : "fine_label_names.txt");
  return Dataset(images, labels, classes, is_file(names) ? read_class_names(names.string(), static_cast<size_t>(classes)) : std::vector<std::string>{});
}

}  // namespace glassbox::data
