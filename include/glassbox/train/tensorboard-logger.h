// Training records to TensorBoard: train_loss per step and per epoch, val_loss, val_acc, learning
// rate, the callbacks' scalars and figures; one event file per run directory.
#pragma once

#include <memory>
#include <string>

#include "glassbox/tensorboard/summary-writer.h"
#include "glassbox/train/logger.h"

namespace glassbox::train {

class TensorBoardLogger : public Logger {
 public:
  explicit TensorBoardLogger(const std::string& run_dir, tensorboard::SummaryWriterOptions options = {});
  void log_metrics(const std::map<std::string, double>& metrics, int64_t step) override;
  // An image summary at (tag, step); TensorBoard keeps one image per tag and step.
  void log_image(const std::string& tag, const std::string& encoded, int64_t step,
                 const std::string& description = "") override;
  void flush() override;
  const std::string& path() const { return writer_->path(); }

 private:
  std::unique_ptr<tensorboard::SummaryWriter> writer_;
};

}  // namespace glassbox::train
