#include "glassbox/data/named.h"

#include <ATen/ATen.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "glassbox/data/idx.h"
#include "glassbox/util/error.h"

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

std::vector<std::string> read_class_names(const fs::path& dir) {
  std::vector<std::string> names;
  std::ifstream in(dir / "classes.txt");
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) names.push_back(line);
  return names;
}

}  // namespace

std::string resolve_dataset_dir(const std::string& name_or_path) {
  GLASSBOX_CHECK(!name_or_path.empty(), "--data: empty, expected mnist, fashion-mnist or an IDX directory");
  if (fs::is_directory(name_or_path)) return name_or_path;
  const bool is_name = name_or_path.find('/') == std::string::npos;
  if (is_name) {
    std::vector<fs::path> roots;
    if (const char* env = std::getenv("GLASSBOX_DATA")) roots.emplace_back(env);
    roots.emplace_back("data");
#ifdef GLASSBOX_SOURCE_DATA_DIR
    roots.emplace_back(GLASSBOX_SOURCE_DATA_DIR);
#endif
    for (const auto& root : roots)
      if (fs::is_directory(root / name_or_path)) return (root / name_or_path).string();
    throw Error("--data " + name_or_path + ": no such dataset (looked in $GLASSBOX_DATA, ./data" +
                std::string(roots.size() > 2 ? " and the source tree's data/" : "") +
                "; run scripts/setup to prepare mnist and fashion-mnist)");
  }
  throw Error(name_or_path + ": no such directory (expected an IDX dataset directory)");
}

Dataset load_idx_dataset(const std::string& name_or_path, Split split) {
  const fs::path dir = resolve_dataset_dir(name_or_path);
  const std::string prefix = split == Split::train ? "train" : "t10k";
  const std::string images_path = find_idx(dir, prefix + "-images-idx3-ubyte");
  const std::string labels_path = find_idx(dir, prefix + "-labels-idx1-ubyte");
  IdxArray images = read_idx_file(images_path, IdxKind::images);
  const IdxArray labels = read_idx_file(labels_path, IdxKind::labels);
  std::vector<std::string> names = read_class_names(dir);
  const int64_t classes = validate_labels(images, images_path, labels, labels_path,
                                          static_cast<int64_t>(names.size()));
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
