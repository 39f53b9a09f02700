// An image classification dataset: uint8 pixels N x C x H x W, int64 labels, shared storage with index
// views so that splits and subsets cost no copy of the images. The pixels are in memory, or, for a set
// larger than the memory allowed for it, decoded from their files each time a batch needs them.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "glassbox/data/normalization.h"

namespace glassbox::data {

// One batch: float pixels in [0, 1] (as torchvision's ToTensor makes them) and int64 labels. The
// model's input specification (models::InputSpec) turns the pixels into its input.
struct Batch {
  at::Tensor x;  // B x C x H x W, float32, contiguous
  at::Tensor y;  // B, int64
};

// Samples produced on demand (decoded from files), all of one shape C x H x W.
class SampleSource {
 public:
  virtual ~SampleSource() = default;
  virtual int64_t size() const = 0;
  // Writes sample `index` as C x H x W uint8 (channel-major) to `out`. Safe to call from several
  // threads at once. Throws glassbox::Error naming the file at fault.
  virtual void read(int64_t index, uint8_t* out) const = 0;
};

class Dataset {
 public:
  Dataset() = default;
  // images: uint8 N x C x H x W (or N x H x W, read as one channel); labels: integer N.
  Dataset(at::Tensor images, at::Tensor labels, int64_t num_classes, std::vector<std::string> class_names = {});
  // Samples of shape C x H x W read from `source` when batches need them, on `threads` threads.
  Dataset(std::shared_ptr<const SampleSource> source, int64_t channels, int64_t height, int64_t width, at::Tensor labels,
          int64_t num_classes, std::vector<std::string> class_names = {}, int threads = 1);

  int64_t size() const;
  int64_t channels() const { return shape_[0]; }
  int64_t height() const { return shape_[1]; }
  int64_t width() const { return shape_[2]; }
  // Whether the pixels are in memory (false: decoded per batch).
  bool in_memory() const { return images_.defined(); }
  // Where the pixels are: the CPU, or a GPU after to().
  c10::Device device() const;
  // This view with its pixels and labels on `device` (in-memory datasets only; a copy of the view's
  // rows): its batches are then gathered, converted and normalised there, so a GPU never waits for the
  // host. Batches equal the CPU's to the bit (the same conversion). On the view's own device: itself.
  Dataset to(c10::Device device) const;
  int64_t num_classes() const { return num_classes_; }
  const std::vector<std::string>& class_names() const { return class_names_; }

  // The samples of this view at `positions` (0-based within this view), as [0, 1] pixels, on device().
  // Positions outside the view are an error (on a GPU, checked there without waiting for it).
  Batch batch(const at::Tensor& positions) const;
  // Contiguous range [begin, end) of this view.
  Batch batch(int64_t begin, int64_t end) const;
  // The view's labels (int64, N).
  at::Tensor labels() const;
  // The view's raw uint8 images (N x C x H x W); a copy unless the view is the whole in-memory storage.
  at::Tensor images() const;
  // The raw uint8 images at `positions` of this view (B x C x H x W), from memory or decoded.
  at::Tensor raw(const at::Tensor& positions) const;
  // A view of the samples at `positions` of this view; shares the storage.
  Dataset subset(const at::Tensor& positions) const;
  // Per-channel mean and standard deviation of the view's pixels in [0, 1].
  Normalization compute_normalization() const;

 private:
  // Storage rows of this view's positions, checked to be in range.
  std::vector<int64_t> rows_of(const at::Tensor& positions) const;
  void check(int64_t num_classes);
  Batch batch_on_device(const at::Tensor& positions) const;
  at::Tensor storage_rows_on_device(const at::Tensor& positions) const;

  at::Tensor images_;   // uint8 N x C x H x W, full storage; undefined when decoded from source_
  std::shared_ptr<const SampleSource> source_;
  int source_threads_ = 1;
  int64_t shape_[3] = {0, 0, 0};
  at::Tensor labels_;   // int64 N, full storage
  at::Tensor indices_;  // int64 positions into the storage; undefined = all, in order
  int64_t num_classes_ = 0;
  std::vector<std::string> class_names_;
};

// Splits `dataset` into parts of the given sizes (summing to its size) in a random order fixed by `seed`.
std::vector<Dataset> random_split(const Dataset& dataset, const std::vector<int64_t>& sizes, uint64_t seed);
// The same with fractions summing to 1 (remainders go to the first parts, as torch's random_split).
std::vector<Dataset> random_split(const Dataset& dataset, const std::vector<double>& fractions, uint64_t seed);

// The order of `size` samples for one epoch: a permutation fixed by (seed, epoch), independent of any
// other random state, so that a resumed run sees the same batches as an uninterrupted one.
at::Tensor epoch_order(int64_t size, uint64_t seed, int64_t epoch);

}  // namespace glassbox::data
