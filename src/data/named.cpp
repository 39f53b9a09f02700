#include "glassbox/data/named.h"

#include <ATen/ATen.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "glassbox/data/class-names.h"
#include "glassbox/data/idx.h"
#include "glassbox/util/error.h"
#include "glassbox/util/file-bytes.h"

namespace fs = std::filesystem;

namespace glassbox::data {
namespace {

std::string find_idx(const fs::path& dir, const std::string& stem) {
  for (const std::string& name : {stem, stem + ".gz"}) {
    const fs::path p = dir / name;
    if (fs::exists(p)) return p.string();
  }
  throw Error(dir.string() + ": no " + stem + " or " + stem + ".gz (expected an IDX dataset directory)");
}

}  // namespace

std::string resolve_dataset_dir(const std::string& name_or_path) {
  GLASSBOX_CHECK(!name_or_path.empty(), "dataset '': expected mnist, fashion-mnist or a dataset directory");
  if (fs::is_directory(name_or_path)) return name_or_path;
  const bool is_name = name_or_path.find('/') == std::string::npos;
  if (is_name) {
    std::vector<fs::path> roots;
    if (const char* env = std::getenv("GLASSBOX_DATA")) roots.emplace_back(env);
    roots.emplace_back("data");
    for (const auto& root : roots)
      if (fs::is_directory(root / name_or_path)) return (root / name_or_path).string();
    throw Error("dataset '" + printable_excerpt(name_or_path) +
                "': no such dataset (looked in $GLASSBOX_DATA and ./data; run scripts/setup to prepare mnist and "
                "fashion-mnist)");
  }
  throw Error(printable_excerpt(name_or_path, 200) + ": no such directory (expected a dataset directory)");
}

Dataset load_idx_dataset(const std::string& name_or_path, Split split) {
  const fs::path dir = resolve_dataset_dir(name_or_path);
  const std::string prefix = split == Split::train ? "train" : "t10k";
  const std::string images_path = find_idx(dir, prefix + "-images-idx3-ubyte");
  const std::string labels_path = find_idx(dir, prefix + "-labels-idx1-ubyte");
  IdxArray images = read_idx_file(images_path, IdxKind::images);
  const IdxArray labels = read_idx_file(labels_path, IdxKind::labels);
  std::vector<std::string> names;
  if (std::error_code ec; fs::exists(dir / "classes.txt", ec)) names = read_class_names((dir / "classes.txt").string());
  const int64_t classes = validate_labels(images, images_path, labels, labels_path,
                                          static_cast<int64_t>(names.size()));
  if (names.empty()) {
    // Without classes.txt the class count is inferred from the labels: every class up to the largest
    // label must occur, or one stray label (255) would silently make a 256-class model.
    std::vector<int64_t> seen(static_cast<size_t>(classes), 0);
    int64_t at_max = 0;
    for (size_t i = 0; i < labels.bytes.size(); ++i) {
      ++seen[labels.bytes[i]];
      if (labels.bytes[i] == classes - 1) at_max = static_cast<int64_t>(i);
    }
    for (int64_t c = 0; c < classes; ++c)
      GLASSBOX_CHECK(seen[static_cast<size_t>(c)] > 0, labels_path, ": the largest label is ", classes - 1, " (at index ",
                     at_max, "), but label ", c, " never occurs; without ", (dir / "classes.txt").string(),
                     " every class up to the largest label must (add classes.txt naming each class)");
  }
  GLASSBOX_CHECK(images.dims[0] > 0, images_path, ": 0 images, expected at least one");
  const int64_t n = images.dims[0], h = images.dims[1], w = images.dims[2];
  GLASSBOX_CHECK(h > 0 && w > 0, images_path, ": image size ", h, "x", w, ", expected positive");
  at::Tensor x = at::empty({n, 1, h, w}, at::kByte);
  std::memcpy(x.data_ptr<uint8_t>(), images.bytes.data(), images.bytes.size());
  images.bytes.clear();
  images.bytes.shrink_to_fit();
  at::Tensor y = at::empty({n}, at::kLong);
  int64_t* yp = y.data_ptr<int64_t>();
  for (int64_t i = 0; i < n; ++i) yp[i] = labels.bytes[i];
  return Dataset(x, y, classes, names);
}

std::vector<int64_t> default_train_val_sizes(int64_t n) {
  const int64_t train = n == 60000 ? 55000 : n * 11 / 12;
  return {train, n - train};
}

}  // namespace glassbox::data
