// Where training records go: metrics and figures. One interface, several back ends (CSV, console,
// TensorBoard, figure files), as Google Benchmark's reporters do; nothing a run records is written
// behind a logger's back, so the rank that writes (rank 0) is decided in one place, the Trainer.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace glassbox::train {

// Loggers are called from the training thread and from callbacks' drawing threads: implementations
// are thread-safe.
class Logger {
 public:
  virtual ~Logger() = default;
  // Scalars at a global step, e.g. {"train_loss": 0.31} or {"val_loss": 0.2, "val_acc": 0.94}.
  virtual void log_metrics(const std::map<std::string, double>& metrics, int64_t step) = 0;
  // A figure as PNG or GIF bytes (render::encoded_image_size reads its size), with an optional
  // description. Loggers that keep no figures (CSV, console) ignore it.
  virtual void log_image(const std::string& /*tag*/, const std::string& /*encoded*/, int64_t /*step*/,
                         const std::string& /*description*/ = "") {}
  virtual void flush() {}
  // False when whatever is logged here is dropped (e.g. on ranks other than 0): callbacks then skip
  // the work of making figures.
  virtual bool records() const { return true; }
};

}  // namespace glassbox::train
