// Writes TensorBoard event files that TensorBoard reads exactly as it reads the Python writer's.
// add_* only queues: encoding (PNG, protobuf, framing) and disk writes happen on a background thread
// behind a bounded queue, so the caller does not wait for the disk in the common case.
#pragma once

#include <ATen/core/Tensor.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "glassbox/tensorboard/events.h"
#include "glassbox/util/arg.h"

namespace glassbox::tensorboard {

// What add_* does when the queue is full.
enum class WhenFull { block, drop };

struct SummaryWriterOptions {
  GLASSBOX_ARG(size_t, max_queue) = 8192;         // pending values
  GLASSBOX_ARG(double, flush_seconds) = 1.0;      // how stale the file may get while values trickle in
  GLASSBOX_ARG(WhenFull, when_full) = WhenFull::block;
  GLASSBOX_ARG(std::string, filename_suffix);
};

// Display name and description shown by TensorBoard (both optional).
struct SummaryLabel {
  std::string display_name;
  std::string description;
};

class SummaryWriter {
 public:
  // Creates `logdir` if needed and a new event file in it, named as the Python writer names them:
  // events.out.tfevents.<10-digit seconds>.<host>.<pid>.<n>. Never appends to an existing file.
  explicit SummaryWriter(const std::string& logdir, SummaryWriterOptions options = {});
  ~SummaryWriter();  // closes
  SummaryWriter(const SummaryWriter&) = delete;
  SummaryWriter& operator=(const SummaryWriter&) = delete;

  void add_scalar(const std::string& tag, double value, int64_t step, const SummaryLabel& label = {});
  // image: H x W or C x H x W (C = 1, 2, 3 or 4), uint8, or floating point in [0, 1] (clamped).
  void add_image(const std::string& tag, const at::Tensor& image, int64_t step, const SummaryLabel& label = {});
  // PNG or GIF bytes as they are; colorspace 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA.
  void add_image_encoded(const std::string& tag, std::string encoded, int height, int width, int colorspace,
                         int64_t step, const SummaryLabel& label = {});
  // Buckets like TensorBoard's default (exponential, +-1e-12 * 1.1^k).
  void add_histogram(const std::string& tag, const at::Tensor& values, int64_t step, const SummaryLabel& label = {});
  // Markdown text, shown by the text plugin (tag + "/text_summary", as the Python writer).
  void add_text(const std::string& tag, const std::string& text, int64_t step, const SummaryLabel& label = {});

  // Returns once everything queued so far is in the file (handed to the OS).
  void flush();
  // Flushes, fsyncs and closes the file; later add_* calls are errors. Throws if a write failed.
  void close();

  const std::string& path() const { return path_; }
  uint64_t dropped() const { return dropped_.load(); }
  uint64_t written() const { return written_.load(); }

 private:
  using Encode = std::function<std::string()>;  // produces one serialised Event
  void enqueue(Encode encode);
  void run();
  void check_open(const std::string& tag) const;

  SummaryWriterOptions options_;
  std::string path_;
  int fd_ = -1;
  std::mutex mutex_;
  std::condition_variable wake_worker_, space_, flushed_;
  std::deque<Encode> queue_;
  bool stopping_ = false;
  std::atomic<bool> closed_{false};
  uint64_t enqueued_ = 0, done_ = 0, flush_target_ = 0;
  std::string io_error_;
  std::atomic<uint64_t> dropped_{0}, written_{0};
  std::thread worker_;
};

// Seconds since the epoch with sub-second resolution, as Event.wall_time.
double wall_time_now();

}  // namespace glassbox::tensorboard
