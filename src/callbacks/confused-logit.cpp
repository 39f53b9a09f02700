#include "glassbox/callbacks/confused-logit.h"

#include <ATen/ATen.h>

#include <algorithm>

#include "glassbox/explain/confusion.h"
#include "glassbox/explain/figures.h"
#include "glassbox/util/error.h"

namespace glassbox::callbacks {

ConfusedLogitCallback::ConfusedLogitCallback(ConfusedLogitOptions options)
    : options_(std::move(options)), queue_(options_.max_pending()) {
  GLASSBOX_CHECK(options_.top_k() >= 1, "ConfusedLogit: top_k ", options_.top_k(), ", expected at least 1");
  GLASSBOX_CHECK(options_.logging_batch_interval() >= 1, "ConfusedLogit: logging_batch_interval ",
                 options_.logging_batch_interval(), ", expected at least 1");
}

void ConfusedLogitCallback::on_train_batch_end(const train::BatchContext& ctx) {
  if ((ctx.batch_index + 1) % options_.logging_batch_interval() != 0 || !ctx.logger->records()) return;
  // Per sample, not batch-wide: each sample's own top logit must reach min_logit_value.
  std::vector<explain::ConfusedSample> confused = explain::find_confused(
      ctx.logits, explain::ConfusionRule()
                      .max_logit_difference(options_.max_logit_difference())
                      .min_logit_value(options_.min_logit_value()));
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ++stats_.batches_checked;
    stats_.confused_seen += static_cast<int64_t>(confused.size());
  }
  if (confused.empty()) return;
  // The most confused first, cut to top_k.
  std::stable_sort(confused.begin(), confused.end(), [](const auto& a, const auto& b) { return a.gap < b.gap; });
  confused.resize(std::min<size_t>(confused.size(), static_cast<size_t>(options_.top_k())));
  std::vector<int64_t> rows, ca, cb;
  for (const auto& c : confused) rows.push_back(c.index), ca.push_back(c.class_a), cb.push_back(c.class_b);
  const at::Tensor index = at::tensor(rows, at::kLong).to(ctx.x.device());
  const at::Tensor x = ctx.x.detach().index_select(0, index);
  const at::Tensor y = ctx.y.index_select(0, index);
  // One target per sample (gather), input gradients only: the parameters' .grad stays as the
  // optimizer step left it.
  // The batch's pixels are shown, and projections clamped, unnormalised (by the trainer's spec).
  auto figures = explain::confusion_figure_data(ctx.model, ctx.spec, x, y, at::tensor(ca, at::kLong).to(x.device()),
                                                at::tensor(cb, at::kLong).to(x.device()), options_.projection_factor(),
                                                explain::Score::logit, /*skip_vanished=*/true);
  // TensorBoard keeps one image per (tag, step): the figures of one step get tags of their own, in
  // the convention of TensorFlow's image summaries (tag/image/0, tag/image/1, ...).
  int64_t logged_here = 0;
  for (size_t i = 0; i < figures.size(); ++i) {
    if (figures[i].vanished) {
      std::lock_guard<std::mutex> lock(mutex_);
      ++stats_.skipped_vanished;
      continue;
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ++stats_.figures_logged;
      if (options_.keep_history())
        history_.push_back({ctx.global_step, x[static_cast<int64_t>(i)].to(at::kCPU).clone(), figures[i].label,
                            figures[i].class_a, figures[i].class_b});
    }
    auto data = std::make_shared<explain::ConfusionFigureData>(std::move(figures[i]));
    const int64_t step = ctx.global_step;
    const std::string tag = options_.tag() + "/image/" + std::to_string(logged_here++);
    queue_.push([logger = ctx.logger, data, step, tag] { logger->log_image(tag, explain::render_confusion_figure(*data), step); });
  }
}

void ConfusedLogitCallback::on_train_epoch_end(const train::EpochContext& ctx) {
  if (!ctx.logger->records()) return;
  const ConfusedLogitStats s = stats();
  // After the figures queued before them.
  queue_.push([logger = ctx.logger, s, step = ctx.global_step] {
    logger->log_metrics({{"confused_logit/confused_seen", double(s.confused_seen)},
                         {"confused_logit/figures_logged", double(s.figures_logged)},
                         {"confused_logit/skipped_vanished", double(s.skipped_vanished)}},
                        step);
  });
}

void ConfusedLogitCallback::on_fit_end(const train::EpochContext& ctx) {
  queue_.flush();
  ctx.logger->flush();
}

ConfusedLogitStats ConfusedLogitCallback::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

std::vector<LoggedFigure> ConfusedLogitCallback::history() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return history_;
}

}  // namespace glassbox::callbacks
