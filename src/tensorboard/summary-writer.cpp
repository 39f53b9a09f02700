#include "glassbox/tensorboard/summary-writer.h"

#include <ATen/ATen.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "glassbox/render/png.h"
#include "glassbox/tensorboard/record.h"
#include "glassbox/util/atomic-file.h"
#include "glassbox/util/error.h"

namespace glassbox::tensorboard {
namespace {

std::string hostname() {
  char name[256] = {0};
  if (gethostname(name, sizeof name - 1) != 0 || name[0] == 0) return "localhost";
  return name;
}

ValueMetadata metadata_for(const SummaryLabel& label, const char* plugin) {
  ValueMetadata m;
  if (label.display_name.empty() && label.description.empty()) return m;  // as the Python writer: none
  m.plugin_name = plugin;
  m.display_name = label.display_name;
  m.description = label.description;
  return m;
}

// An image tensor as interleaved 8-bit H x W x C pixels.
struct Pixels {
  std::string bytes;
  int height = 0, width = 0, channels = 0;
};

Pixels to_pixels(const std::string& tag, const at::Tensor& image) {
  GLASSBOX_CHECK(image.defined() && (image.dim() == 2 || image.dim() == 3), "add_image ", tag, ": shape ",
                 image.sizes(), ", expected H x W or C x H x W");
  at::Tensor chw = image.dim() == 2 ? image.unsqueeze(0) : image;
  const int64_t c = chw.size(0);
  GLASSBOX_CHECK(c >= 1 && c <= 4, "add_image ", tag, ": ", c, " channels, expected 1, 2, 3 or 4");
  GLASSBOX_CHECK(chw.size(1) > 0 && chw.size(2) > 0, "add_image ", tag, ": empty image");
  chw = chw.detach().to(at::kCPU);
  at::Tensor u8;
  if (chw.scalar_type() == at::kByte) {
    u8 = chw;
  } else {
    GLASSBOX_CHECK(at::isFloatingType(chw.scalar_type()), "add_image ", tag, ": dtype ", chw.scalar_type(),
                   ", expected uint8 or floating point in [0, 1]");
    u8 = chw.to(at::kFloat).nan_to_num(0.0).clamp(0.0, 1.0).mul(255.0).round().to(at::kByte);
  }
  const at::Tensor hwc = u8.permute({1, 2, 0}).contiguous();
  Pixels p;
  p.height = static_cast<int>(hwc.size(0));
  p.width = static_cast<int>(hwc.size(1));
  p.channels = static_cast<int>(c);
  p.bytes.assign(reinterpret_cast<const char*>(hwc.data_ptr<uint8_t>()), static_cast<size_t>(hwc.numel()));
  return p;
}

}  // namespace

double wall_time_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

SummaryWriter::SummaryWriter(const std::string& logdir, SummaryWriterOptions options) : options_(std::move(options)) {
  GLASSBOX_CHECK(options_.max_queue() > 0, "SummaryWriter: max_queue must be positive");
  ensure_writable_directory(logdir);
  static std::atomic<unsigned> counter{0};
  const double now = wall_time_now();
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%010lld", static_cast<long long>(now));
  // O_EXCL: a writer never appends to an existing file; a name taken (same second, pid and counter
  // from an earlier process with a recycled pid) moves on to the next counter.
  for (int attempt = 0; attempt < 1000 && fd_ < 0; ++attempt) {
    path_ = (std::filesystem::path(logdir) / ("events.out.tfevents." + std::string(seconds) + "." + hostname() + "." +
                                              std::to_string(getpid()) + "." + std::to_string(counter++) +
                                              options_.filename_suffix()))
                .string();
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd_ < 0 && errno != EEXIST) break;
  }
  GLASSBOX_CHECK(fd_ >= 0, path_, ": cannot create event file (", std::strerror(errno), ")");
  const std::string first = frame_record(encode_file_version_event(now));
  if (::write(fd_, first.data(), first.size()) != static_cast<ssize_t>(first.size())) {
    const int err = errno;
    ::close(fd_);
    ::unlink(path_.c_str());
    throw Error(path_ + ": cannot write (" + std::strerror(err) + ")");
  }
  worker_ = std::thread([this] { run(); });
}

SummaryWriter::~SummaryWriter() {
  try {
    close();
  } catch (...) {
    // A destructor must not throw; close() reports write errors to callers who ask.
  }
}

void SummaryWriter::check_open(const std::string& tag) const {
  GLASSBOX_CHECK(!closed_, path_, ": add ", tag, " after close()");
}

void SummaryWriter::enqueue(Encode encode) {
  std::unique_lock<std::mutex> lock(mutex_);
  GLASSBOX_CHECK(!closed_, path_, ": writer is closed");
  if (queue_.size() >= options_.max_queue()) {
    if (options_.when_full() == WhenFull::drop) {
      ++dropped_;
      return;
    }
    wake_worker_.notify_one();
    space_.wait(lock, [&] { return queue_.size() < options_.max_queue() || stopping_; });
  }
  queue_.push_back(std::move(encode));
  ++enqueued_;
  // Wake the worker only when a batch has gathered: a notify per value would cost the caller a
  // futex call each time. The worker also wakes every flush_seconds.
  if (queue_.size() == std::max<size_t>(1, options_.max_queue() / 4)) wake_worker_.notify_one();
}

void SummaryWriter::run() {
  const auto interval = std::chrono::duration<double>(options_.flush_seconds());
  std::deque<Encode> batch;
  std::string buffer;
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    wake_worker_.wait_for(lock, interval, [&] {
      return stopping_ || flush_target_ > done_ || queue_.size() >= std::max<size_t>(1, options_.max_queue() / 4);
    });
    batch.swap(queue_);
    const bool stop = stopping_ && batch.empty();
    space_.notify_all();
    lock.unlock();
    if (stop) break;

    buffer.clear();
    for (Encode& encode : batch) {
      try {
        buffer += frame_record(encode());
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> guard(mutex_);
        if (io_error_.empty()) io_error_ = path_ + ": cannot encode a value (" + e.what() + ")";
      }
    }
    // One write per batch of whole records: a crash leaves at most one torn record at the end.
    size_t done = 0;
    while (done < buffer.size()) {
      const ssize_t n = ::write(fd_, buffer.data() + done, buffer.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        std::lock_guard<std::mutex> guard(mutex_);
        if (io_error_.empty()) io_error_ = path_ + ": write failed (" + std::strerror(errno) + ")";
        break;
      }
      done += static_cast<size_t>(n);
    }
    written_ += batch.size();
    const size_t count = batch.size();
    batch.clear();

    lock.lock();
    done_ += count;
    flushed_.notify_all();
  }
}

void SummaryWriter::flush() {
  std::unique_lock<std::mutex> lock(mutex_);
  if (closed_) return;
  flush_target_ = enqueued_;
  wake_worker_.notify_one();
  flushed_.wait(lock, [&] { return done_ >= flush_target_; });
  GLASSBOX_CHECK(io_error_.empty(), io_error_);
}

void SummaryWriter::close() {
  {
    std::unique_lock<std::mutex> lock(mutex_);
    if (closed_) return;
    closed_ = true;
    stopping_ = true;
  }
  wake_worker_.notify_one();
  space_.notify_all();
  if (worker_.joinable()) worker_.join();
  const bool synced = ::fsync(fd_) == 0;
  ::close(fd_);
  GLASSBOX_CHECK(io_error_.empty(), io_error_);
  GLASSBOX_CHECK(synced, path_, ": fsync failed (", std::strerror(errno), ")");
}

void SummaryWriter::add_scalar(const std::string& tag, double value, int64_t step, const SummaryLabel& label) {
  const double wall = wall_time_now();
  const float v = static_cast<float>(value);
  if (label.display_name.empty() && label.description.empty()) {
    // The common case, kept small: the capture fits one allocation.
    enqueue([wall, step, v, tag] { return encode_scalar_event(wall, step, tag, v); });
    return;
  }
  enqueue([=, meta = metadata_for(label, "scalars")] { return encode_scalar_event(wall, step, tag, v, meta); });
}

void SummaryWriter::add_image(const std::string& tag, const at::Tensor& image, int64_t step, const SummaryLabel& label) {
  check_open(tag);
  const double wall = wall_time_now();
  auto pixels = std::make_shared<Pixels>(to_pixels(tag, image));
  enqueue([=, meta = metadata_for(label, "images")] {
    const std::string png = render::encode_png(reinterpret_cast<const uint8_t*>(pixels->bytes.data()), pixels->width,
                                               pixels->height, pixels->channels);
    return encode_image_event(wall, step, tag, pixels->height, pixels->width, pixels->channels, png, meta);
  });
}

void SummaryWriter::add_image_encoded(const std::string& tag, std::string encoded, int height, int width,
                                      int colorspace, int64_t step, const SummaryLabel& label) {
  GLASSBOX_CHECK(height > 0 && width > 0, "add_image_encoded ", tag, ": size ", width, "x", height,
                 ", expected positive");
  GLASSBOX_CHECK(colorspace >= 1 && colorspace <= 4, "add_image_encoded ", tag, ": colorspace ", colorspace,
                 ", expected 1 to 4");
  const double wall = wall_time_now();
  auto bytes = std::make_shared<std::string>(std::move(encoded));
  enqueue([=, meta = metadata_for(label, "images")] {
    return encode_image_event(wall, step, tag, height, width, colorspace, *bytes, meta);
  });
}

void SummaryWriter::add_histogram(const std::string& tag, const at::Tensor& values, int64_t step,
                                  const SummaryLabel& label) {
  GLASSBOX_CHECK(values.defined() && values.numel() > 0, "add_histogram ", tag, ": no values");
  const double wall = wall_time_now();
  const at::Tensor flat = values.detach().to(at::kCPU).to(at::kFloat).contiguous().view(-1);
  auto copy = std::make_shared<std::vector<float>>(flat.data_ptr<float>(), flat.data_ptr<float>() + flat.numel());
  enqueue([=, meta = metadata_for(label, "histograms")] {
    return encode_histogram_event(wall, step, tag, make_histogram(copy->data(), copy->size()), meta);
  });
}

void SummaryWriter::add_text(const std::string& tag, const std::string& text, int64_t step, const SummaryLabel& label) {
  const double wall = wall_time_now();
  enqueue([=] {
    ValueMetadata meta;
    meta.display_name = label.display_name;
    meta.description = label.description;
    return encode_text_event(wall, step, tag + "/text_summary", text, meta);
  });
}

}  // namespace glassbox::tensorboard
