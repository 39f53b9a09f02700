// The faithfulness metrics and sanity checks as typed calls, one per metric family (metrics.h reaches the
// same by name). Each takes a model and attributions computed for (x, targets) by any method, or an
// explain function for those that explain again; definitions and open choices: metric-options.h.
//
//   at::Tensor a = glassbox::explain::attribute("ig", model, x, targets);
//   auto del = glassbox::evaluate::deletion(model, x, targets, a);   // del.area: [B], lower is better
#pragma once

#include <ATen/core/Tensor.h>

#include <functional>
#include <string>
#include <vector>

#include "glassbox/evaluate/metric-options.h"
#include "glassbox/models/classifier.h"

namespace glassbox::evaluate {

// Every call takes perturbations_per_eval as EvaluateOptions does (0: automatic).

// Attributions for a batch and its targets: what the randomisation and sensitivity tests call again.
using ExplainFunction = std::function<at::Tensor(const at::Tensor& x, const at::Tensor& targets)>;

struct PerturbationCurve {
  at::Tensor curve;  // [B, points] double on the CPU: the target's probability
  at::Tensor area;   // [B]: its area over [0, 1], trapezoidal
};

PerturbationCurve deletion(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets,
                           const at::Tensor& attributions, const PixelFlippingOptions& options = {},
                           int64_t perturbations_per_eval = 0);
PerturbationCurve insertion(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets,
                            const at::Tensor& attributions, const PixelFlippingOptions& options = {},
                            int64_t perturbations_per_eval = 0);

struct RoadResult {
  at::Tensor morf, lerf;  // [B, percentages] double on the CPU: the target's probability
  at::Tensor combined;    // [B]: mean over percentages of (lerf - morf) / 2; higher is better
};
RoadResult road(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets,
                const at::Tensor& attributions, const RoadOptions& options = {}, int64_t perturbations_per_eval = 0);

// ROAD's imputation of one image [C, H, W] where `removed` [H, W] (bool) is true; noise 0 gives the
// linear solution itself. Runs on the CPU (a sparse Cholesky factorisation); returns on image's device.
at::Tensor noisy_linear_imputation(const at::Tensor& image, const at::Tensor& removed, double noise,
                                   at::Generator& generator);

// [B] double on the CPU.
at::Tensor infidelity(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets,
                      const at::Tensor& attributions, const InfidelityOptions& options = {},
                      explain::Score score = explain::Score::logit, int64_t perturbations_per_eval = 0);
at::Tensor sensitivity_max(const ExplainFunction& explain, const at::Tensor& x, const at::Tensor& targets,
                           const SensitivityOptions& options = {}, int64_t perturbations_per_eval = 0);
// |sum(attributions) - (f(x) - f(baseline))|, baseline zeros: the completeness IG satisfies by
// construction (its convergence delta); [B] double.
at::Tensor completeness(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets,
                        const at::Tensor& attributions, explain::Score score = explain::Score::logit);
// Sparseness as Quantus computes it (Chalasani et al. 2020): the Gini index of |attribution| + 1e-7
// over all its elements, 0 for a uniform map, (n - 1) / n for a single nonzero element; [B] double.
at::Tensor gini(const at::Tensor& attributions);

// The map the randomisation tests compare: |attributions summed over channels| [B, H, W], float.
at::Tensor relevance_map(const at::Tensor& attributions);
// Per sample, over maps [B, H, W]: Spearman's rank correlation (average ranks for ties) and SSIM of the
// maps min-max scaled to [0, 1] (skimage's structural_similarity: 7 x 7 uniform window, sample
// covariance, data range 1, mean over the window positions inside the map). [B] double.
at::Tensor spearman(const at::Tensor& a, const at::Tensor& b);
at::Tensor ssim(const at::Tensor& a, const at::Tensor& b);

struct RandomisationResult {
  std::vector<std::string> steps;  // the layers randomised at each step ("fc2", "fc1, conv2")
  at::Tensor spearman, ssim;       // [B, steps] double: each step's map against the original
  at::Tensor score;                // [B]: the last step's Spearman (cascading), the mean (independent)
  at::Tensor strip;                // [n, steps + 1, H, W]: the first samples' maps, original first
  bool passed = false;             // the mean score below options.pass_below
};
// The model-parameter randomisation test; `explain` runs on `model` as it is at each step.
RandomisationResult model_parameter_randomisation(models::Classifier& model, const at::Tensor& x,
                                                  const at::Tensor& targets, const ExplainFunction& explain,
                                                  const RandomisationOptions& options = {});
// The random-logit test: each sample explained for a uniformly drawn other class; scores are the SSIM
// (and Spearman) against its own map. Needs at least two classes.
RandomisationResult random_logit(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets,
                                 const ExplainFunction& explain, const RandomisationOptions& options = {});

}  // namespace glassbox::evaluate
