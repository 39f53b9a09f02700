#include "glassbox/train/tensorboard-logger.h"

#include "glassbox/render/encoded-size.h"
#include "glassbox/util/error.h"

namespace glassbox::train {

TensorBoardLogger::TensorBoardLogger(const std::string& run_dir, tensorboard::SummaryWriterOptions options)
    : writer_(std::make_unique<tensorboard::SummaryWriter>(run_dir, std::move(options))) {}

void TensorBoardLogger::log_metrics(const std::map<std::string, double>& metrics, int64_t step) {
  for (const auto& [name, value] : metrics) writer_->add_scalar(name, value, step);
}

void TensorBoardLogger::log_image(const std::string& tag, const std::string& encoded, int64_t step,
                                  const std::string& description) {
  int width = 0, height = 0;
  GLASSBOX_CHECK(render::encoded_image_size(encoded, width, height), "figure ", tag, ": not PNG or GIF bytes");
  writer_->add_image_encoded(tag, encoded, height, width, 3, step, {"", description});
}

void TensorBoardLogger::flush() { writer_->flush(); }

}  // namespace glassbox::train
