// Progress display: a bar redrawn in place on a terminal, plain lines otherwise.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>

namespace glassbox::train {

class Progress {
 public:
  Progress(bool enabled, std::FILE* out = stderr);
  void start_epoch(int64_t epoch, int64_t max_epochs, int64_t batches);
  // `loss` is called only when the bar is redrawn (reading a loss on a GPU waits for it).
  void update(int64_t batch, int64_t samples, const std::function<double()>& loss);
  void end_epoch(const std::string& summary);

 private:
  bool enabled_;
  bool terminal_;
  std::FILE* out_;
  int64_t epoch_ = 0, max_epochs_ = 0, batches_ = 0;
  std::chrono::steady_clock::time_point epoch_start_, last_draw_;
  int64_t samples_ = 0;
  double loss_ = 0;
};

}  // namespace glassbox::train
