// Training metrics to TensorBoard: train_loss per step and per epoch, val_loss, val_acc, learning rate,
// one event file per run directory.
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
  void flush() override;
  // The writer, for callbacks that log figures next to the metrics.
  tensorboard::SummaryWriter& writer() { return *writer_; }
  std::shared_ptr<tensorboard::SummaryWriter> shared_writer() { return writer_; }

 private:
  std::shared_ptr<tensorboard::SummaryWriter> writer_;
};

}  // namespace glassbox::train
