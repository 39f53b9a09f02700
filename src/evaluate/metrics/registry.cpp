// The registered metrics: one line each. A new metric is one file in this folder defining
// `const Metric& NAME();` and its line here.
#include "glassbox/evaluate/metrics.h"
#include "glassbox/util/error.h"

#define GLASSBOX_METRICS(X)  \
  X(deletion_metric)         \
  X(insertion_metric)        \
  X(road_metric)             \
  X(infidelity_metric)       \
  X(sensitivity_metric)      \
  X(randomisation_metric)    \
  X(random_logit_metric)     \
  X(completeness_metric)     \
  X(sparseness_metric)

namespace glassbox::evaluate {

#define GLASSBOX_DECLARE(f) const Metric& f();
GLASSBOX_METRICS(GLASSBOX_DECLARE)
#undef GLASSBOX_DECLARE

const std::vector<const Metric*>& metrics() {
#define GLASSBOX_ENTRY(f) &f(),
  static const std::vector<const Metric*> all = {GLASSBOX_METRICS(GLASSBOX_ENTRY)};
#undef GLASSBOX_ENTRY
  return all;
}

std::string metric_names() {
  std::string out;
  for (const Metric* m : metrics()) out += (out.empty() ? "" : ", ") + std::string(m->name());
  return out;
}

const Metric& find_metric(const std::string& name) {
  for (const Metric* m : metrics())
    if (name == m->name()) return *m;
  throw Error::about("metric", name, "expected one of " + metric_names());
}

}  // namespace glassbox::evaluate
