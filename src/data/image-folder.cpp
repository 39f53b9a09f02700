#include "glassbox/data/image-folder.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "glassbox/data/transforms.h"
#include "glassbox/util/error.h"
#include "glassbox/util/file-bytes.h"
#include "glassbox/util/parallel.h"

namespace fs = std::filesystem;

namespace glassbox::data {
namespace {

constexpr size_t kMaxFiles = 10'000'000;
constexpr int kMaxDepth = 32;

bool is_image_name(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg";
}

bool valid_utf8(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2) return false;
    i += n;
  }
  return true;
}

// Images under `dir` (recursively), sorted by path.
void collect(const fs::path& dir, int depth, std::vector<std::string>& out) {
  GLASSBOX_CHECK(depth <= kMaxDepth, dir.string(), ": folders nested deeper than ", kMaxDepth, " levels");
  std::vector<fs::directory_entry> entries;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) entries.push_back(*it);
  GLASSBOX_CHECK(!ec, dir.string(), ": cannot list (", ec.message(), ")");
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.path() < b.path(); });
  for (const auto& e : entries) {
    if (e.is_symlink(ec) && e.is_directory(ec)) continue;  // linked folders could loop
    if (e.is_directory(ec)) {
      collect(e.path(), depth + 1, out);
    } else if (is_image_name(e.path())) {
      out.push_back(e.path().string());
      GLASSBOX_CHECK(out.size() <= kMaxFiles, dir.string(), ": more than ", kMaxFiles, " images");
    }
  }
}

// Decodes one file and prepares it; checks it comes out of the dataset's shape.
DecodedImage prepared(const std::string& path, const Preprocess& preprocess) {
  return preprocess.apply(decode_image(read_image_bytes(path), path));
}

void check_shape(const DecodedImage& im, const std::string& path, int channels, int height, int width,
                 const std::string& first) {
  GLASSBOX_CHECK(im.channels == channels, path, ": ", im.channels == 1 ? "gray" : "RGB", ", but ", first, " is ",
                 channels == 1 ? "gray" : "RGB", "; convert them (preprocess channels rgb or gray) to make them one kind");
  GLASSBOX_CHECK(im.height == height && im.width == width, path, ": ", im.width, "x", im.height, " after preprocessing, but ",
                 first, " is ", width, "x", height, "; a resize and a crop make them one size");
}

// HWC (decoded) to CHW (a tensor's layout).
void to_planes(const DecodedImage& im, uint8_t* out) {
  const size_t plane = static_cast<size_t>(im.width) * static_cast<size_t>(im.height);
  const size_t c = static_cast<size_t>(im.channels);
  for (size_t i = 0; i < plane; ++i)
    for (size_t ch = 0; ch < c; ++ch) out[ch * plane + i] = im.pixels[i * c + ch];
}

// The images of a folder too large to keep, decoded when a batch needs them.
class FolderSource : public SampleSource {
 public:
  FolderSource(std::vector<std::string> files, Preprocess preprocess, int channels, int height, int width)
      : files_(std::move(files)), preprocess_(std::move(preprocess)), channels_(channels), height_(height), width_(width) {}
  int64_t size() const override { return static_cast<int64_t>(files_.size()); }
  void read(int64_t index, uint8_t* out) const override {
    const std::string& path = files_[static_cast<size_t>(index)];
    const DecodedImage im = prepared(path, preprocess_);
    check_shape(im, path, channels_, height_, width_, files_.front());
    to_planes(im, out);
  }

 private:
  std::vector<std::string> files_;
  Preprocess preprocess_;
  int channels_, height_, width_;
};

}  // namespace

ImageFolderIndex scan_image_folder(const std::string& root) {
  std::error_code ec;
  GLASSBOX_CHECK(fs::is_directory(root, ec), root, ": not a directory");
  ImageFolderIndex index;
  std::vector<fs::path> class_dirs;
  for (fs::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec))
    if (it->is_directory(ec)) class_dirs.push_back(it->path());
  GLASSBOX_CHECK(!ec, root, ": cannot list (", ec.message(), ")");
  std::sort(class_dirs.begin(), class_dirs.end());
  GLASSBOX_CHECK(class_dirs.size() >= 2, root, ": ", class_dirs.size(), " class folder", class_dirs.size() == 1 ? "" : "s",
                 ", expected at least 2 (ROOT/<class>/<images>)");
  for (const fs::path& dir : class_dirs) {
    const std::string name = dir.filename().string();
    GLASSBOX_CHECK(valid_utf8(name), dir.string(), ": a class folder name that is not UTF-8 ('", printable_excerpt(name),
                   "')");
    const size_t before = index.files.size();
    collect(dir, 1, index.files);
    GLASSBOX_CHECK(index.files.size() > before, dir.string(), ": class folder without PNG or JPEG images");
    index.labels.insert(index.labels.end(), index.files.size() - before, static_cast<int64_t>(index.classes.size()));
    index.classes.push_back(name);
  }
  return index;
}

int64_t default_cache_bytes() {
  std::ifstream in("/proc/meminfo");
  for (std::string key; in >> key;) {
    int64_t kb = 0;
    std::string unit;
    in >> kb >> unit;
    if (key == "MemAvailable:") return kb * 1024 / 2;
  }
  return int64_t(1) << 30;
}

Dataset load_image_folder(const std::string& root, const ImageLoadOptions& options) {
  const Preprocess& pre = options.preprocess();
  pre.validate("preprocess");
  ImageFolderIndex index = scan_image_folder(root);
  const int threads = std::max(1, options.threads());
  const int64_t n = static_cast<int64_t>(index.files.size());
  // The first image fixes the shape every other must come out with.
  const DecodedImage first = prepared(index.files.front(), pre);
  const int c = first.channels, h = first.height, w = first.width;
  const int64_t sample = int64_t(c) * h * w;
  const int64_t budget = options.cache_bytes() >= 0 ? options.cache_bytes() : default_cache_bytes();
  at::Tensor labels = at::tensor(index.labels, at::kLong);
  if (n * sample <= budget) {
    at::Tensor images = at::empty({n, c, h, w}, at::kByte);
    uint8_t* dst = images.data_ptr<uint8_t>();
    parallel_items(n, threads, [&](int64_t i) {
      const std::string& path = index.files[static_cast<size_t>(i)];
      const DecodedImage im = i == 0 ? first : prepared(path, pre);
      check_shape(im, path, c, h, w, index.files.front());
      to_planes(im, dst + i * sample);
    });
    return Dataset(images, labels, static_cast<int64_t>(index.classes.size()), index.classes);
  }
  // Too large to keep: every header is read now (size and channels checked before any work), the
  // pixels when batches need them.
  parallel_items(n, threads, [&](int64_t i) {
    const std::string& path = index.files[static_cast<size_t>(i)];
    std::string head = read_file_prefix(path, 1 << 18);
    ImageInfo info;
    try {
      info = probe_image(head, path);
    } catch (const Error&) {
      info = probe_image(read_image_bytes(path), path);  // a JPEG whose frame header lies further in
    }
    DecodedImage shape{info.width, info.height, info.channels, {}};
    if (pre.channels() != Channels::keep) shape.channels = pre.channels() == Channels::gray ? 1 : 3;
    GLASSBOX_CHECK(shape.channels == c, path, ": ", shape.channels == 1 ? "gray" : "RGB", ", but ", index.files.front(),
                   " is ", c == 1 ? "gray" : "RGB", "; convert them (preprocess channels rgb or gray) to make them one kind");
    if (pre.resize() > 0) resized_shape(info.width, info.height, pre.resize(), shape.width, shape.height);
    if (pre.crop() > 0) shape.width = shape.height = pre.crop();
    check_shape(shape, path, c, h, w, index.files.front());
  });
  auto source = std::make_shared<FolderSource>(index.files, pre, c, h, w);
  return Dataset(source, c, h, w, labels, static_cast<int64_t>(index.classes.size()), index.classes, threads);
}

}  // namespace glassbox::data
