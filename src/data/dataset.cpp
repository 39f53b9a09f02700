#include "glassbox/data/dataset.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <cstring>
#include <numeric>

#include "glassbox/util/error.h"
#include "glassbox/util/parallel.h"

namespace glassbox::data {
namespace {

at::Tensor channel_tensor(const std::vector<double>& values, int64_t channels) {
  std::vector<float> v(static_cast<size_t>(channels));
  for (int64_t c = 0; c < channels; ++c) v[c] = static_cast<float>(values.size() == 1 ? values[0] : values[c]);
  return at::tensor(v).view({1, channels, 1, 1});
}

at::Generator seeded_generator(uint64_t seed) {
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  return gen;
}

}  // namespace

at::Tensor Normalization::apply(const at::Tensor& x) const {
  if (!enabled()) return x;
  const int64_t c = x.size(1);
  return (x - channel_tensor(mean, c).to(x.device())) / channel_tensor(std, c).to(x.device());
}

void Normalization::tensors(int64_t channels, const c10::Device& device, at::Tensor& m, at::Tensor& s) const {
  m = channel_tensor(mean, channels).to(device);
  s = channel_tensor(std, channels).to(device);
}

at::Tensor Normalization::invert(const at::Tensor& x) const {
  if (!enabled()) return x;
  const int64_t c = x.size(1);
  return x * channel_tensor(std, c).to(x.device()) + channel_tensor(mean, c).to(x.device());
}

Dataset::Dataset(at::Tensor images, at::Tensor labels, int64_t num_classes, std::vector<std::string> class_names)
    : labels_(labels.to(at::kLong).contiguous()), num_classes_(num_classes), class_names_(std::move(class_names)) {
  GLASSBOX_CHECK(images.scalar_type() == at::kByte, "dataset: images must be uint8, got ", images.scalar_type());
  if (images.dim() == 3) images = images.unsqueeze(1);
  GLASSBOX_CHECK(images.dim() == 4, "dataset: images must be N x C x H x W, got ", images.dim(), " dimensions");
  GLASSBOX_CHECK(labels_.dim() == 1 && labels_.size(0) == images.size(0), "dataset: ", labels_.numel(),
                 " labels for ", images.size(0), " images");
  images_ = images.contiguous();
  for (int d = 0; d < 3; ++d) shape_[d] = images_.size(d + 1);
  check(num_classes);
}

Dataset::Dataset(std::shared_ptr<const SampleSource> source, int64_t channels, int64_t height, int64_t width,
                 at::Tensor labels, int64_t num_classes, std::vector<std::string> class_names, int threads)
    : source_(std::move(source)),
      source_threads_(std::max(1, threads)),
      labels_(labels.to(at::kLong).contiguous()),
      num_classes_(num_classes),
      class_names_(std::move(class_names)) {
  GLASSBOX_CHECK(source_ != nullptr, "dataset: no sample source");
  GLASSBOX_CHECK(channels > 0 && height > 0 && width > 0, "dataset: sample shape ", channels, "x", height, "x", width,
                 ", expected positive");
  GLASSBOX_CHECK(labels_.dim() == 1 && labels_.size(0) == source_->size(), "dataset: ", labels_.numel(), " labels for ",
                 source_->size(), " samples");
  shape_[0] = channels, shape_[1] = height, shape_[2] = width;
  check(num_classes);
}

void Dataset::check(int64_t num_classes) {
  GLASSBOX_CHECK(num_classes > 0, "dataset: class count ", num_classes, ", expected > 0");
  if (labels_.numel() > 0) {
    const int64_t lo = labels_.min().item<int64_t>(), hi = labels_.max().item<int64_t>();
    GLASSBOX_CHECK(lo >= 0 && hi < num_classes, "dataset: labels span ", lo, "..", hi, ", expected 0..",
                   num_classes - 1);
  }
  if (class_names_.empty())
    for (int64_t c = 0; c < num_classes; ++c) class_names_.push_back(std::to_string(c));
  GLASSBOX_CHECK(int64_t(class_names_.size()) == num_classes, "dataset: ", class_names_.size(),
                 " class names for ", num_classes, " classes");
}

std::vector<int64_t> Dataset::rows_of(const at::Tensor& positions) const {
  GLASSBOX_CHECK(positions.dim() == 1 && positions.scalar_type() == at::kLong, "dataset: positions must be a ",
                 "one-dimensional int64 tensor");
  const at::Tensor pos = positions.contiguous();
  const int64_t* p = pos.data_ptr<int64_t>();
  const int64_t* view = indices_.defined() ? indices_.data_ptr<int64_t>() : nullptr;
  std::vector<int64_t> rows(static_cast<size_t>(pos.numel()));
  for (size_t i = 0; i < rows.size(); ++i) {
    GLASSBOX_CHECK(p[i] >= 0 && p[i] < size(), "dataset: position ", p[i], " outside 0..", size() - 1);
    rows[i] = view ? view[p[i]] : p[i];
  }
  return rows;
}

at::Tensor Dataset::raw(const at::Tensor& positions) const {
  if (in_memory() && !images_.is_cpu()) return images_.index_select(0, storage_rows_on_device(positions)).to(at::kCPU);
  const std::vector<int64_t> rows = rows_of(positions);
  const int64_t count = static_cast<int64_t>(rows.size()), sample = channels() * height() * width();
  at::Tensor out = at::empty({count, channels(), height(), width()}, at::kByte);
  uint8_t* dst = out.data_ptr<uint8_t>();
  if (in_memory()) {
    const uint8_t* pixels = images_.data_ptr<uint8_t>();
    for (int64_t i = 0; i < count; ++i) std::memcpy(dst + i * sample, pixels + rows[i] * sample, static_cast<size_t>(sample));
    return out;
  }
  // Decoded on a few threads. Errors (a file damaged since it was indexed) surface here, naming it.
  parallel_items(count, source_threads_, [&](int64_t i) { source_->read(rows[static_cast<size_t>(i)], dst + i * sample); });
  return out;
}

int64_t Dataset::size() const { return indices_.defined() ? indices_.numel() : labels_.numel(); }

c10::Device Dataset::device() const { return in_memory() ? images_.device() : c10::Device(c10::kCPU); }

Dataset Dataset::to(c10::Device device) const {
  if (device == this->device()) return *this;
  GLASSBOX_CHECK(in_memory(), "dataset: images decoded per batch cannot be moved to ", device.str(),
                 "; expected images held in memory");
  Dataset out = *this;
  out.images_ = images().to(device);
  out.labels_ = labels().to(device);
  out.indices_ = at::Tensor();
  return out;
}

at::Tensor Dataset::storage_rows_on_device(const at::Tensor& positions) const {
  GLASSBOX_CHECK(positions.dim() == 1 && positions.scalar_type() == at::kLong, "dataset: positions must be a ",
                 "one-dimensional int64 tensor");
  const at::Tensor p = positions.to(images_.device());
  // Checked on the device: index_select would otherwise read outside the storage.
  at::_assert_async(at::logical_and(p >= 0, p < size()).all());
  return indices_.defined() ? indices_.index_select(0, p) : p;
}

Batch Dataset::batch_on_device(const at::Tensor& positions) const {
  const at::Tensor rows = storage_rows_on_device(positions);
  Batch b;
  // The CPU path's conversion (ToTensor's: a float divided by 255), so that batches agree to the bit.
  b.x = images_.index_select(0, rows).to(at::kFloat).div_(255.0f);
  b.y = labels_.index_select(0, rows);
  return b;
}

Batch Dataset::batch(const at::Tensor& positions) const {
  if (in_memory() && !images_.is_cpu()) return batch_on_device(positions);
  Batch b;
  if (!in_memory()) {
    b.x = raw(positions).to(at::kFloat).div_(255.0f);  // as the in-memory path converts, to the last bit
    b.y = labels_.index_select(0, at::tensor(rows_of(positions), at::kLong));
    return b;
  }
  const std::vector<int64_t> rows = rows_of(positions);
  const int64_t count = static_cast<int64_t>(rows.size()), sample = channels() * height() * width();
  const uint8_t* pixels = images_.data_ptr<uint8_t>();
  const int64_t* all_labels = labels_.data_ptr<int64_t>();
  b.x = at::empty({count, channels(), height(), width()}, at::kFloat);
  b.y = at::empty({count}, at::kLong);
  float* x = b.x.data_ptr<float>();
  int64_t* y = b.y.data_ptr<int64_t>();
  // Gather and convert in one pass, only for the batch: the dataset stays uint8 (4x less memory than
  // a float copy), and one loop beats index_select + a dtype conversion on a small batch.
  // Divided, as torchvision's ToTensor does: times 1/255 differs by an ulp for some values, which
  // ill-conditioned models amplify (6 % of a saliency map's peak was seen).
  // Shuffled samples sit at random places in a large array: each one is a run of cache misses. Asking
  // for the sample a few rows ahead while converting this one hides most of that latency (measured:
  // batch assembly of 64 fashion-mnist images 29 us -> 13 us).
  constexpr int64_t kAhead = 8;
  for (int64_t i = 0; i < std::min(count, kAhead); ++i)
    for (int64_t k = 0; k < sample; k += 64) __builtin_prefetch(pixels + rows[i] * sample + k);
  for (int64_t i = 0; i < count; ++i) {
    if (i + kAhead < count)
      for (int64_t k = 0; k < sample; k += 64) __builtin_prefetch(pixels + rows[i + kAhead] * sample + k);
    const uint8_t* src = pixels + rows[i] * sample;
    float* dst = x + i * sample;
    for (int64_t k = 0; k < sample; ++k) dst[k] = static_cast<float>(src[k]) / 255.0f;
    y[i] = all_labels[rows[i]];
  }
  return b;
}

Batch Dataset::batch(int64_t begin, int64_t end) const {
  GLASSBOX_CHECK(0 <= begin && begin <= end && end <= size(), "dataset: batch range [", begin, ", ", end,
                 ") outside 0..", size());
  return batch(at::arange(begin, end, at::kLong));
}

at::Tensor Dataset::labels() const { return indices_.defined() ? labels_.index_select(0, indices_) : labels_; }

at::Tensor Dataset::images() const {
  if (!in_memory()) return raw(at::arange(size(), at::kLong));
  return indices_.defined() ? images_.index_select(0, indices_) : images_;
}

Dataset Dataset::subset(const at::Tensor& positions) const {
  GLASSBOX_CHECK(positions.dim() == 1, "dataset: subset positions must be one-dimensional");
  const at::Tensor p = positions.to(at::kLong);
  if (p.numel() > 0) {
    const int64_t lo = p.min().item<int64_t>(), hi = p.max().item<int64_t>();
    GLASSBOX_CHECK(lo >= 0 && hi < size(), "dataset: subset positions span ", lo, "..", hi, ", dataset has ",
                   size(), " samples");
  }
  Dataset view = *this;
  const at::Tensor here = p.to(device());
  view.indices_ = indices_.defined() ? indices_.index_select(0, here) : here.clone();
  return view;
}

Normalization Dataset::compute_normalization() const {
  // Exact integer sums over chunks (the same result in memory or decoded, whatever the chunking), then
  // the mean and the unbiased standard deviation of the [0, 1] pixels per channel.
  const int64_t c = channels(), plane = height() * width(), chunk = 1024;
  std::vector<int64_t> sum(static_cast<size_t>(c), 0), sum_sq(static_cast<size_t>(c), 0);
  for (int64_t begin = 0; begin < size(); begin += chunk) {
    const at::Tensor pixels = raw(at::arange(begin, std::min(size(), begin + chunk), at::kLong));
    const uint8_t* p = pixels.data_ptr<uint8_t>();
    for (int64_t i = 0; i < pixels.size(0); ++i)
      for (int64_t ch = 0; ch < c; ++ch) {
        const uint8_t* q = p + (i * c + ch) * plane;
        int64_t s = 0, s2 = 0;
        for (int64_t k = 0; k < plane; ++k) s += q[k], s2 += int64_t(q[k]) * q[k];
        sum[static_cast<size_t>(ch)] += s, sum_sq[static_cast<size_t>(ch)] += s2;
      }
  }
  const long double n = static_cast<long double>(size()) * plane;
  Normalization out;
  for (int64_t ch = 0; ch < c; ++ch) {
    const long double s = sum[static_cast<size_t>(ch)], s2 = sum_sq[static_cast<size_t>(ch)];
    const long double var = n > 1 ? (s2 - s * s / n) / (n - 1) : 0;
    out.mean.push_back(static_cast<double>(s / n / 255));
    out.std.push_back(std::max(static_cast<double>(std::sqrt(std::max<long double>(var, 0)) / 255), 1e-6));
  }
  return out;
}

std::vector<Dataset> random_split(const Dataset& dataset, const std::vector<int64_t>& sizes, uint64_t seed) {
  int64_t total = 0;
  for (int64_t s : sizes) {
    GLASSBOX_CHECK(s >= 0, "random_split: size ", s, ", expected >= 0");
    total += s;
  }
  GLASSBOX_CHECK(total == dataset.size(), "random_split: sizes sum to ", total, ", but the dataset has ",
                 dataset.size(), " samples");
  at::Generator gen = seeded_generator(seed);
  const at::Tensor perm = at::randperm(dataset.size(), gen, at::kLong);
  std::vector<Dataset> parts;
  int64_t offset = 0;
  for (int64_t s : sizes) {
    parts.push_back(dataset.subset(perm.slice(0, offset, offset + s)));
    offset += s;
  }
  return parts;
}

std::vector<Dataset> random_split(const Dataset& dataset, const std::vector<double>& fractions, uint64_t seed) {
  double sum = 0;
  for (double f : fractions) {
    GLASSBOX_CHECK(f >= 0 && f <= 1, "random_split: fraction ", f, ", expected 0..1");
    sum += f;
  }
  GLASSBOX_CHECK(std::abs(sum - 1.0) < 1e-6, "random_split: fractions sum to ", sum, ", expected 1");
  std::vector<int64_t> sizes;
  int64_t assigned = 0;
  for (double f : fractions) {
    sizes.push_back(static_cast<int64_t>(std::floor(f * dataset.size())));
    assigned += sizes.back();
  }
  for (size_t i = 0; assigned < dataset.size(); i = (i + 1) % sizes.size(), ++assigned) ++sizes[i];
  return random_split(dataset, sizes, seed);
}

at::Tensor epoch_order(int64_t size, uint64_t seed, int64_t epoch) {
  // Mix seed and epoch so that neighbouring seeds do not share epochs' orders.
  const uint64_t mixed = seed * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(epoch) * 0xBF58476D1CE4E5B9ull + 1;
  at::Generator gen = seeded_generator(mixed);
  return at::randperm(size, gen, at::kLong);
}

}  // namespace glassbox::data
