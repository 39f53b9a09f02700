// The seed's ConfusedLogitCallback, corrected (../docs: confused-logit.md lists what the seed's does
// wrong): per-sample detection, one target per sample, projection_factor honoured, any channel count,
// parameters' gradients never touched, vanished gradients skipped and counted. The training thread
// only computes gradients; the 2x3 figure is drawn and written on the drawing thread.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "glassbox/callbacks/drawing-queue.h"
#include "glassbox/train/callback.h"
#include "glassbox/util/arg.h"

namespace glassbox::callbacks {

struct ConfusedLogitOptions {
  explicit ConfusedLogitOptions(int64_t top_k) : top_k_(top_k) {}
  GLASSBOX_ARG(int64_t, top_k);                          // figures per logging batch, at most
  GLASSBOX_ARG(double, projection_factor) = 3;           // k in x + k * d logit / dx
  GLASSBOX_ARG(double, min_logit_value) = 5.0;           // per sample: the top logit must reach this
  GLASSBOX_ARG(int64_t, logging_batch_interval) = 20;    // look at every n-th training batch
  GLASSBOX_ARG(double, max_logit_difference) = 0.1;      // top-2 gap below this: confused
  // Figures go to tag/image/0, tag/image/1, ... (one per figure of a step: TensorBoard keeps one image
  // per tag and step).
  GLASSBOX_ARG(std::string, tag) = "confusing_imgs";
  GLASSBOX_ARG(size_t, max_pending) = 16;                // figures waiting to be drawn
  GLASSBOX_ARG(bool, keep_history) = false;              // keep what each figure was drawn from (tests)
};

struct ConfusedLogitStats {
  int64_t batches_checked = 0;
  int64_t confused_seen = 0;     // samples that met the rule
  int64_t figures_logged = 0;
  int64_t skipped_vanished = 0;  // confused, but a gradient was all zero (e.g. ReLU-dead logits)
};

// What one logged figure was drawn from.
struct LoggedFigure {
  int64_t step = 0;
  at::Tensor x;  // the sample in the model's input space [C, H, W]
  int64_t label = 0, class_a = 0, class_b = 0;
};

class ConfusedLogitCallback : public train::Callback {
 public:
  // Figures and its counts go to the Trainer's logger. In a distributed run, rank 0 looks at its own
  // batches (its shard), as Lightning's rank-zero-only loggers do; the other ranks skip the work.
  explicit ConfusedLogitCallback(ConfusedLogitOptions options);

  void on_train_batch_end(const train::BatchContext& ctx) override;
  void on_train_epoch_end(const train::EpochContext& ctx) override;
  void on_fit_end(const train::EpochContext& ctx) override;

  ConfusedLogitStats stats() const;
  std::vector<LoggedFigure> history() const;

 private:
  ConfusedLogitOptions options_;
  DrawingQueue queue_;
  mutable std::mutex mutex_;
  ConfusedLogitStats stats_;
  std::vector<LoggedFigure> history_;
};

}  // namespace glassbox::callbacks
