// The options of the faithfulness metrics, one struct per metric family, each field with its paper's or
// Captum's name and default, and the choices the definitions leave open stated where they are made.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "glassbox/explain/gradients.h"
#include "glassbox/util/arg.h"

namespace glassbox::evaluate {

// What replaces a removed pixel (deletion) or stands for a pixel not yet revealed (insertion), in the
// model's input space (after normalisation: zeros are the dataset's mean colour for ImageNet inputs).
enum class Substitute {
  zeros,  // RISE's deletion
  mean,   // each sample's per-channel mean
  blur,   // a Gaussian-blurred copy (RISE's insertion: its gkern(11, 5), zero padding)
};
Substitute parse_substitute(const std::string& name);  // "zeros" | "mean" | "blur"
std::vector<std::string> substitute_names();
const char* substitute_name(Substitute substitute);

// Deletion and insertion (Petsiuk et al. 2018, RISE). Pixels are ordered by the attribution summed over
// channels, largest first (ties in index order); step k of `steps` has removed (deletion) or revealed
// (insertion) the first floor(k * H * W / steps) of them, k = 0 .. steps. The curve is the target's
// softmax probability at each step; the score is its area over [0, 1] by the trapezoidal rule.
struct PixelFlippingOptions {
  GLASSBOX_ARG(int64_t, steps) = 50;
  GLASSBOX_ARG(Substitute, deletion_substitute) = Substitute::zeros;
  GLASSBOX_ARG(Substitute, insertion_substitute) = Substitute::blur;
  // Overrides both substitutes when defined: [C, H, W], [1, C, H, W] or [B, C, H, W] in the input space.
  GLASSBOX_ARG(at::Tensor, substitute);
  // The blur as RISE's gkern(klen, nsig): an odd kernel of blur_kernel taps whose weights are the normal
  // distribution's mass over blur_kernel equal bins spanning +-blur_nsig standard deviations.
  GLASSBOX_ARG(int64_t, blur_kernel) = 11;
  GLASSBOX_ARG(double, blur_nsig) = 5.0;
};

// ROAD (Rong et al. 2022): remove a percentage of the pixels, most relevant first (MoRF) or least
// relevant first (LeRF), and impute them by noisy linear imputation: each removed pixel the weighted mean
// of its 8 neighbours (1/6 along the axes, 1/12 on the diagonals, over the neighbours inside the image),
// a sparse linear system solved exactly, plus Gaussian noise of `noise` on the imputed pixels. The
// count removed is round(p / 100 * H * W) by rank (pytorch-grad-cam thresholds at a percentile instead;
// its MoRF "percentile q" removes the top 100 - q %). The curves are the target's probability; the
// score is pytorch-grad-cam's ROADCombined: the mean over percentages of (LeRF - MoRF) / 2.
struct RoadOptions {
  GLASSBOX_ARG(std::vector<double>, percentages) = std::vector<double>{10, 20, 30, 40, 50, 60, 70, 80, 90};
  GLASSBOX_ARG(double, noise) = 0.01;
  GLASSBOX_ARG(uint64_t, seed) = 0;
};

// A perturbation function as Captum's perturb_func: given x [B, C, H, W] and a generator, the
// perturbation I like x (infidelity compares f(x) - f(x - I) with I . attribution; sensitivity explains
// x + I).
using PerturbFunction = std::function<at::Tensor(const at::Tensor& x, at::Generator& generator)>;

// Infidelity (Yeh et al. 2019) as Captum's infidelity: mean over n_perturb_samples of
// (beta * sum(I * attribution) - (f(x) - f(x - I)))^2, beta = 1 unless normalize. f is the target's score
// (EvaluateOptions::score; Captum's forward_func output: the logit). Attributions of one channel (CAMs)
// broadcast over the input's channels.
struct InfidelityOptions {
  GLASSBOX_ARG(int64_t, n_perturb_samples) = 10;
  // The default perturbation: I ~ N(0, stdev^2) per input element (Captum's documented example, 0.003).
  GLASSBOX_ARG(double, stdev) = 0.003;
  GLASSBOX_ARG(bool, normalize) = false;
  GLASSBOX_ARG(PerturbFunction, perturb_func);  // replaces the Gaussian when set
  GLASSBOX_ARG(uint64_t, seed) = 0;
};

// Max-sensitivity (Yeh et al. 2019) as Captum's sensitivity_max: the largest, over n_perturb_samples
// inputs x + I with I uniform in [-perturb_radius, perturb_radius] per element, of
// ||explain(x + I) - explain(x)||_F / ||explain(x)||_F (a zero norm counts as 1), for the same target.
struct SensitivityOptions {
  GLASSBOX_ARG(int64_t, n_perturb_samples) = 10;
  GLASSBOX_ARG(double, perturb_radius) = 0.02;
  GLASSBOX_ARG(PerturbFunction, perturb_func);  // replaces the uniform noise when set
  GLASSBOX_ARG(uint64_t, seed) = 0;
};

enum class RandomisationOrder {
  cascading,    // from the logits down, each step randomising one more layer (Adebayo et al.'s cascade)
  independent,  // one layer at a time, the others as trained
};
RandomisationOrder parse_randomisation_order(const std::string& name);  // "cascading" | "independent"
std::vector<std::string> randomisation_order_names();
const char* randomisation_order_name(RandomisationOrder order);

// The model-parameter randomisation test (Adebayo et al. 2018) and the random-logit test (Sixt et al.
// 2020). A layer is a module with parameters (named parameters grouped by their module path), in the
// order the model registers them. Randomising draws each weight of two or more dimensions from PyTorch's
// default initialisation, U(+-1 / sqrt(fan_in)); a bias from the same bound as its module's weight; any
// other one-dimensional parameter (a norm's scale and shift) from U(-1, 1). Maps are compared as
// |attribution summed over channels|: Spearman's rank correlation, and SSIM (skimage's: 7 x 7 uniform
// window, sample covariance) of the maps scaled to [0, 1]. The model's own parameters are replaced
// while the test runs and restored bit-exactly after, also when it throws.
struct RandomisationOptions {
  GLASSBOX_ARG(RandomisationOrder, order) = RandomisationOrder::cascading;
  // At most this many steps: with more layers, they are shared out evenly over max_steps steps (step s
  // randomises layers [s L / S, (s + 1) L / S) from the logits). 0: one step per layer.
  GLASSBOX_ARG(int64_t, max_steps) = 0;
  // The test passes when the rank correlation after the last cascading step (the mean over the steps
  // when independent) is below this: the maps depend on what the model learned.
  GLASSBOX_ARG(double, pass_below) = 0.5;
  GLASSBOX_ARG(uint64_t, seed) = 0;
  // Samples whose maps at every step are kept for the strip figure.
  GLASSBOX_ARG(int64_t, strip_samples) = 4;
};

// Every metric's options together, for callers that pick metrics by name.
struct EvaluateOptions {
  // The score infidelity and completeness compare with attributions (Captum's forward_func output: the
  // logit). Curves always use the softmax probability, as RISE and ROAD do.
  GLASSBOX_ARG(explain::Score, score) = explain::Score::logit;
  GLASSBOX_ARG(PixelFlippingOptions, pixel_flipping);
  GLASSBOX_ARG(RoadOptions, road);
  GLASSBOX_ARG(InfidelityOptions, infidelity);
  GLASSBOX_ARG(SensitivityOptions, sensitivity);
  GLASSBOX_ARG(RandomisationOptions, randomisation);
  // Perturbed inputs per forward pass in every metric (Captum's perturbations_per_eval /
  // max_examples_per_batch): the bound on the memory a metric takes beside the model. 0: automatic. On
  // a CPU the fastest size depends on the model's activations against the caches (measured on a 2-core
  // CPU at 1 thread: glassbox's mnist CNN ran deletion + insertion on 64 digits in 5.5 s at 1 a pass,
  // 2.1 s at 64 and 7.3 s at 256; ResNet-18 at 224 x 224 ran fastest one image a pass, 33 ms an image
  // against 55 ms at 2 and 39 ms at 8), so the first passes try 1, 2, 4, ... rows and the rest go at the
  // fastest, up to four times as many as hold 65,536 input values; on a GPU, as many as hold 2^23.
  // Explaining perturbed inputs again (sensitivity) goes 65,536 input values a pass.
  GLASSBOX_ARG(int64_t, perturbations_per_eval) = 0;
};

// Checks every option's range, naming the option: steps, percentages, kernel, radius, ...
void check_evaluate_options(const EvaluateOptions& options);

}  // namespace glassbox::evaluate
