#include "glassbox/train/tensorboard-logger.h"

namespace glassbox::train {

TensorBoardLogger::TensorBoardLogger(const std::string& run_dir, tensorboard::SummaryWriterOptions options)
    : writer_(std::make_shared<tensorboard::SummaryWriter>(run_dir, std::move(options))) {}

void TensorBoardLogger::log_metrics(const std::map<std::string, double>& metrics, int64_t step) {
  for (const auto& [name, value] : metrics) writer_->add_scalar(name, value, step);
}

void TensorBoardLogger::flush() { writer_->flush(); }

}  // namespace glassbox::train
