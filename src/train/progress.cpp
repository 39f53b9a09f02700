#include "progress.h"

#include <unistd.h>

namespace glassbox::train {

Progress::Progress(bool enabled, std::FILE* out) : enabled_(enabled), terminal_(isatty(fileno(out)) != 0), out_(out) {}

void Progress::start_epoch(int64_t epoch, int64_t max_epochs, int64_t batches) {
  epoch_ = epoch;
  max_epochs_ = max_epochs;
  batches_ = batches;
  samples_ = 0;
  epoch_start_ = last_draw_ = std::chrono::steady_clock::now();
}

void Progress::update(int64_t batch, int64_t samples, const std::function<double()>& loss) {
  samples_ = samples;
  if (!enabled_ || !terminal_) return;
  const auto now = std::chrono::steady_clock::now();
  // Redraw at most 10 times a second: the terminal must not slow training.
  if (batch + 1 < batches_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  loss_ = loss();
  const double seconds = std::chrono::duration<double>(now - epoch_start_).count();
  const int width = 24;
  const int filled = static_cast<int>(width * (batch + 1) / std::max<int64_t>(batches_, 1));
  std::string bar(static_cast<size_t>(filled), '#');
  bar.resize(width, '.');
  std::fprintf(out_, "\repoch %lld/%lld [%s] %lld/%lld  %.0f samples/s  loss %.4f ", static_cast<long long>(epoch_ + 1),
               static_cast<long long>(max_epochs_), bar.c_str(), static_cast<long long>(batch + 1),
               static_cast<long long>(batches_), seconds > 0 ? samples_ / seconds : 0.0, loss_);
  std::fflush(out_);
}

void Progress::end_epoch(const std::string& summary) {
  if (!enabled_) return;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - epoch_start_).count();
  if (terminal_) std::fputs("\r\033[K", out_);
  std::fprintf(out_, "epoch %lld/%lld: %lld samples in %.2f s (%.0f samples/s)  %s\n",
               static_cast<long long>(epoch_ + 1), static_cast<long long>(max_epochs_),
               static_cast<long long>(samples_), seconds, seconds > 0 ? samples_ / seconds : 0.0, summary.c_str());
  std::fflush(out_);
}

}  // namespace glassbox::train
