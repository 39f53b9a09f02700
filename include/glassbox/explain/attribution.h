// Attribution methods with Captum's parameter names and meanings, so a user moving from Python finds
// them: Saliency, InputXGradient, IntegratedGradients, NoiseTunnel (SmoothGrad, VarGrad), Occlusion.
// Every method takes a batch x [B, C, H, W] and one target class per sample, and returns
// attributions shaped like x. Models run in eval mode (restored after); parameters' .grad is untouched.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "glassbox/explain/gradients.h"
#include "glassbox/models/classifier.h"
#include "glassbox/util/arg.h"

namespace glassbox::explain {

// Saliency: |d score / dx| (abs = true, Captum's default) or the signed gradient.
at::Tensor saliency(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets, bool abs = true,
                    Score score = Score::logit);

// Input x Gradient: x * d score / dx.
at::Tensor input_x_gradient(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets,
                            Score score = Score::logit);

// n_steps at most this: enough for any integral glassbox's users compute (Captum's examples use up to
// a few hundred), and a bound on the work done before the first pass (Gauss-Legendre nodes are O(n^2)).
constexpr int64_t kMaxIntegrationSteps = 4096;

struct IntegratedGradientsOptions {
  GLASSBOX_ARG(int64_t, n_steps) = 50;
  // gausslegendre | riemann_left | riemann_right | riemann_middle | riemann_trapezoid (Captum's names).
  // riemann_trapezoid uses the textbook weights (1/2, 1, ..., 1, 1/2) / (n - 1), which sum to 1, so that
  // the attributions sum to F(x) - F(baseline) as IG's completeness requires; Captum's weights for it
  // sum to (n - 1) / n, which scales its attributions by that factor.
  GLASSBOX_ARG(std::string, method) = "gausslegendre";
  // Rows (scaled inputs) per forward/backward pass, rounded down to whole copies of the batch; bounds
  // peak memory. 0 = one copy of the batch per pass (B rows; n_steps passes). Captum's default (None)
  // takes all B * n_steps rows at once; that is slower here as well as heavier (measured for the cnn,
  // batch 64: 640 rows a pass 1.7x slower than 64), so glassbox defaults to the batch.
  GLASSBOX_ARG(int64_t, internal_batch_size) = 0;
  GLASSBOX_ARG(bool, return_convergence_delta) = false;
  GLASSBOX_ARG(Score, score) = Score::logit;
};

struct Attribution {
  at::Tensor attributions;  // like x
  at::Tensor delta;         // [B]: sum(attr) - (F(x) - F(baseline)), when asked for
};

// The path integral of gradients from `baselines` (undefined = zeros; else like x, or [1, C, H, W])
// to x, times (x - baseline).
Attribution integrated_gradients(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets,
                                 const at::Tensor& baselines = {},
                                 const IntegratedGradientsOptions& options = IntegratedGradientsOptions());

// The points alpha in [0, 1] and their weights for an n-step approximation of an integral over [0, 1].
void integration_points(const std::string& method, int64_t n_steps, std::vector<double>& alphas,
                        std::vector<double>& weights);

struct NoiseTunnelOptions {
  GLASSBOX_ARG(std::string, nt_type) = "smoothgrad";  // smoothgrad | smoothgrad_sq | vargrad
  GLASSBOX_ARG(int64_t, nt_samples) = 10;
  // Absolute standard deviation of the Gaussian noise. Captum's default is 1.0, as large as the whole
  // range of a [0, 1] image: the noise then drowns the image. SmoothGrad's authors found 10-20 % of
  // the input range best; 0.15 is that for [0, 1] pixels (scale it for normalised inputs).
  GLASSBOX_ARG(double, stdevs) = 0.15;
  GLASSBOX_ARG(uint64_t, seed) = 0;
};

// Averages `method` over noisy copies of x: SmoothGrad (mean), SmoothGrad^2 (mean of squares) or
// VarGrad (variance). `method` maps a (noisy) batch to attributions of the same shape.
at::Tensor noise_tunnel(const std::function<at::Tensor(const at::Tensor&)>& method, const at::Tensor& x,
                        const NoiseTunnelOptions& options = NoiseTunnelOptions());

struct OcclusionOptions {
  // Sliding window over (H, W) (all channels at once) and its strides, as Captum's
  // sliding_window_shapes=(C, h, w), strides=(C, sh, sw). As Captum, ceil((H - h) / sh) + 1 windows per
  // axis, the last one clipped at the border, so that every pixel is covered.
  GLASSBOX_ARG(int64_t, window_h) = 4;
  GLASSBOX_ARG(int64_t, window_w) = 4;
  GLASSBOX_ARG(int64_t, stride_h) = 2;
  GLASSBOX_ARG(int64_t, stride_w) = 2;
  GLASSBOX_ARG(double, baseline) = 0.0;
  GLASSBOX_ARG(int64_t, perturbations_per_eval) = 64;  // occluded copies per forward pass
  GLASSBOX_ARG(Score, score) = Score::logit;
};

// Gradient-free cross-check: each pixel gets the mean drop of the target score over the windows that
// cover it, when the window is replaced by the baseline (Captum's Occlusion).
at::Tensor occlusion(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets,
                     const OcclusionOptions& options = OcclusionOptions());

// The methods by their CLI names: saliency, ixg, ig, smoothgrad, occlusion.
enum class Method { saliency, input_x_gradient, integrated_gradients, smoothgrad, occlusion };
Method parse_method(const std::string& name);
const char* method_name(Method method);

// Every method's options together, for callers that pick the method at run time.
struct AttributeOptions {
  GLASSBOX_ARG(Score, score) = Score::logit;
  GLASSBOX_ARG(IntegratedGradientsOptions, integrated_gradients);
  GLASSBOX_ARG(NoiseTunnelOptions, noise_tunnel);
  GLASSBOX_ARG(OcclusionOptions, occlusion);
};

// One call for any method (SmoothGrad wraps the signed gradient). `score` applies to every method.
at::Tensor attribute(Method method, models::Classifier& model, const at::Tensor& x, const at::Tensor& targets,
                     const AttributeOptions& options = AttributeOptions());

}  // namespace glassbox::explain
