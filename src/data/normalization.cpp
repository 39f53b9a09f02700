// The checks only: free of libtorch (checkpoint metadata is checked before libtorch reads a file).
#include "glassbox/data/normalization.h"

#include <cmath>

#include "glassbox/util/error.h"

namespace glassbox::data {

void Normalization::validate(int64_t channels, const std::string& what) const {
  GLASSBOX_CHECK(mean.size() == std.size(), what, ": ", mean.size(), " means but ", std.size(), " standard deviations");
  if (mean.empty()) return;
  GLASSBOX_CHECK(mean.size() == 1 || int64_t(mean.size()) == channels, what, ": ", mean.size(), " values for ", channels,
                 " channels, expected 1 or ", channels);
  for (double s : std) GLASSBOX_CHECK(s > 0 && std::isfinite(s), what, ": std ", s, ", expected a finite value > 0");
  for (double m : mean) GLASSBOX_CHECK(std::isfinite(m), what, ": mean ", m, ", expected a finite value");
}

}  // namespace glassbox::data
