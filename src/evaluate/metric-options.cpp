#include "glassbox/evaluate/metric-options.h"

#include <cmath>

#include "glassbox/util/enum-names.h"
#include "glassbox/util/error.h"

namespace glassbox::evaluate {

namespace {
const char* const kSubstituteNames[] = {"zeros", "mean", "blur"};           // Substitute's order
const char* const kOrderNames[] = {"cascading", "independent"};             // RandomisationOrder's order
constexpr int64_t kMaxPerturbations = 1 << 16;  // per sample: far beyond any published setting
}  // namespace

Substitute parse_substitute(const std::string& name) { return enum_from_name<Substitute>(kSubstituteNames, name, "substitute"); }
std::vector<std::string> substitute_names() { return enum_names(kSubstituteNames); }
const char* substitute_name(Substitute substitute) { return enum_name(kSubstituteNames, substitute); }

RandomisationOrder parse_randomisation_order(const std::string& name) {
  return enum_from_name<RandomisationOrder>(kOrderNames, name, "order");
}
std::vector<std::string> randomisation_order_names() { return enum_names(kOrderNames); }
const char* randomisation_order_name(RandomisationOrder order) { return enum_name(kOrderNames, order); }

void check_evaluate_options(const EvaluateOptions& o) {
  const PixelFlippingOptions& f = o.pixel_flipping();
  GLASSBOX_CHECK_PARAM(f.steps() >= 1 && f.steps() <= 100000, "steps", f.steps(), "expected 1 to 100000");
  GLASSBOX_CHECK_PARAM(f.blur_kernel() >= 1 && f.blur_kernel() % 2 == 1 && f.blur_kernel() <= 255, "blur_kernel",
                       f.blur_kernel(), "expected an odd number from 1 to 255");
  GLASSBOX_CHECK_PARAM(std::isfinite(f.blur_nsig()) && f.blur_nsig() > 0 && f.blur_nsig() <= 40, "blur_nsig", f.blur_nsig(),
                       "expected a number in (0, 40]");
  const std::vector<double>& p = o.road().percentages();
  GLASSBOX_CHECK_PARAM(!p.empty() && p.size() <= 100, "percentages", p.size(), "expected 1 to 100 percentages");
  for (double v : p)
    GLASSBOX_CHECK_PARAM(std::isfinite(v) && v > 0 && v < 100, "percentages", v,
                         "expected each above 0 and below 100 (a percentage of the pixels removed)");
  GLASSBOX_CHECK_PARAM(std::isfinite(o.road().noise()) && o.road().noise() >= 0, "noise", o.road().noise(),
                       "expected a finite number >= 0");
  GLASSBOX_CHECK_PARAM(o.infidelity().n_perturb_samples() >= 1 && o.infidelity().n_perturb_samples() <= kMaxPerturbations,
                       "n_perturb_samples", o.infidelity().n_perturb_samples(), "expected 1 to ", kMaxPerturbations);
  GLASSBOX_CHECK_PARAM(std::isfinite(o.infidelity().stdev()) && o.infidelity().stdev() > 0, "stdev",
                       o.infidelity().stdev(), "expected a finite number > 0");
  GLASSBOX_CHECK_PARAM(o.sensitivity().n_perturb_samples() >= 1 && o.sensitivity().n_perturb_samples() <= kMaxPerturbations,
                       "n_perturb_samples", o.sensitivity().n_perturb_samples(), "expected 1 to ", kMaxPerturbations);
  GLASSBOX_CHECK_PARAM(std::isfinite(o.sensitivity().perturb_radius()) && o.sensitivity().perturb_radius() > 0,
                       "perturb_radius", o.sensitivity().perturb_radius(), "expected a finite number > 0");
  GLASSBOX_CHECK_PARAM(o.randomisation().max_steps() >= 0 && o.randomisation().max_steps() <= 10000, "max_steps",
                       o.randomisation().max_steps(), "expected 0 (every layer) to 10000");
  GLASSBOX_CHECK_PARAM(std::isfinite(o.randomisation().pass_below()) && std::fabs(o.randomisation().pass_below()) <= 1,
                       "pass_below", o.randomisation().pass_below(), "expected a correlation in [-1, 1]");
  GLASSBOX_CHECK_PARAM(o.randomisation().strip_samples() >= 0 && o.randomisation().strip_samples() <= 64, "strip_samples",
                       o.randomisation().strip_samples(), "expected 0 to 64");
  GLASSBOX_CHECK_PARAM(o.perturbations_per_eval() >= 0 && o.perturbations_per_eval() <= kMaxPerturbations,
                       "perturbations_per_eval", o.perturbations_per_eval(), "expected 0 (automatic) to ", kMaxPerturbations);
}

}  // namespace glassbox::evaluate
