#include "glassbox/data/load.h"

#include <ATen/ATen.h>

#include <filesystem>

#include "glassbox/data/cifar.h"
#include "glassbox/data/image-folder.h"
#include "glassbox/util/error.h"
#include "glassbox/util/parallel.h"

namespace fs = std::filesystem;

namespace glassbox::data {
namespace {

bool has_file(const fs::path& dir, const std::string& stem) {
  std::error_code ec;
  return fs::exists(dir / stem, ec) || fs::exists(dir / (stem + ".gz"), ec);
}

bool has_subdirectory(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return false;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->is_directory(ec)) return true;
  return false;
}

// An image folder's split: ROOT/train and ROOT/val (or ROOT/test) when they are there, else ROOT.
std::string folder_split(const fs::path& root, Split split) {
  if (!has_subdirectory(root / "train")) return root.string();
  if (split == Split::train) return (root / "train").string();
  for (const char* name : {"val", "test"})
    if (has_subdirectory(root / name)) return (root / name).string();
  throw Error(root.string() + ": has train/ but no val/ or test/ folder for the test split");
}

}  // namespace

const char* format_name(DataFormat format) {
  switch (format) {
    case DataFormat::idx: return "IDX";
    case DataFormat::image_folder: return "image folder";
    case DataFormat::cifar10: return "CIFAR-10";
    case DataFormat::cifar100: return "CIFAR-100";
  }
  return "?";
}

Dataset preprocess_in_memory(const Dataset& d, const Preprocess& pre, int threads, const std::string& what) {
  const at::Tensor images = d.images().permute({0, 2, 3, 1}).contiguous();  // N x H x W x C, as decoded images are
  const int64_t n = images.size(0);
  auto image_at = [&](int64_t i) {
    DecodedImage im{static_cast<int>(images.size(2)), static_cast<int>(images.size(1)), static_cast<int>(images.size(3)), {}};
    const uint8_t* p = images.data_ptr<uint8_t>() + i * images.stride(0);
    im.pixels.assign(p, p + images.stride(0));
    return pre.apply(im);
  };
  const DecodedImage first = image_at(0);
  at::Tensor out = at::empty({n, first.channels, first.height, first.width}, at::kByte);
  const int64_t sample = out.stride(0), plane = int64_t(first.height) * first.width;
  parallel_items(n, threads, [&](int64_t i) {
    const DecodedImage im = image_at(i);
    GLASSBOX_CHECK(im.width == first.width && im.height == first.height && im.channels == first.channels, what,
                   ": image ", i, " is ", im.width, "x", im.height, " after preprocessing, image 0 ", first.width, "x",
                   first.height);
    uint8_t* dst = out.data_ptr<uint8_t>() + i * sample;
    for (int64_t k = 0; k < plane; ++k)
      for (int ch = 0; ch < im.channels; ++ch) dst[ch * plane + k] = im.pixels[static_cast<size_t>(k * im.channels + ch)];
  });
  return Dataset(out, d.labels(), d.num_classes(), d.class_names());
}

LoadedDataset load_dataset(const std::string& name_or_path, Split split, const DatasetOptions& options) {
  const Preprocess& pre = options.preprocess();
  Preprocess(pre).normalize({}).validate("preprocess");
  const fs::path dir = resolve_dataset_dir(name_or_path);
  LoadedDataset out;
  const std::string prefix = split == Split::train ? "train" : "t10k";
  if (has_file(dir, prefix + "-images-idx3-ubyte") || has_file(dir, "train-images-idx3-ubyte")) {
    out.format = DataFormat::idx;
    out.directory = dir.string();
    out.dataset = load_idx_dataset(dir.string(), split);
  } else if (const CifarKind kind = detect_cifar(dir.string()); kind != CifarKind::none) {
    out.format = kind == CifarKind::cifar10 ? DataFormat::cifar10 : DataFormat::cifar100;
    out.directory = dir.string();
    out.dataset = load_cifar(dir.string(), kind, split);
  } else if (has_subdirectory(dir)) {
    out.format = DataFormat::image_folder;
    out.directory = folder_split(dir, split);
    out.dataset = load_image_folder(
        out.directory, ImageLoadOptions().preprocess(pre).threads(options.threads()).cache_bytes(options.cache_bytes()));
  } else {
    throw Error(dir.string() + ": not a dataset (expected IDX files, CIFAR batches, or class folders of PNG/JPEG images)");
  }
  if (out.format != DataFormat::image_folder && pre.changes_images())
    out.dataset = preprocess_in_memory(out.dataset, pre, options.threads(), out.directory);
  return out;
}

}  // namespace glassbox::data
