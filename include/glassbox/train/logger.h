// Where training metrics go. One interface, several back ends (CSV, console; TensorBoard plugs in the
// same way), as Google Benchmark's reporters do.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace glassbox::train {

class Logger {
 public:
  virtual ~Logger() = default;
  // Scalars at a global step, e.g. {"train_loss": 0.31} or {"val_loss": 0.2, "val_acc": 0.94}.
  virtual void log_metrics(const std::map<std::string, double>& metrics, int64_t step) = 0;
  virtual void flush() {}
};

}  // namespace glassbox::train
