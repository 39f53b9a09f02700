// Attribution methods with Captum's parameter names and meanings, so a user moving from Python finds
// them. Input methods (Saliency, InputXGradient, IntegratedGradients, NoiseTunnel, Occlusion) return
// attributions shaped like the input; layer methods (Grad-CAM and its relatives, Captum's
// LayerGradientXActivation and LayerIntegratedGradients) work on a named layer's activation. Every method
// takes a batch x [B, C, H, W] and one target class per sample, runs the model in eval mode (restored
// after) on the device it is on, and never touches the parameters' .grad. Each method is one file under
// src/explain/methods, reachable by name through methods.h.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "glassbox/explain/gradients.h"
#include "glassbox/explain/modified-backward.h"
#include "glassbox/explain/perturbation-methods.h"
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

// How the path integral is approximated (Captum's `method`). riemann_trapezoid uses the textbook weights
// (1/2, 1, ..., 1, 1/2) / (n - 1), which sum to 1, so that attributions sum to F(x) - F(baseline) as IG's
// completeness requires; Captum's weights for it sum to (n - 1) / n, scaling its attributions by that.
enum class IntegrationRule { gauss_legendre, riemann_left, riemann_right, riemann_middle, riemann_trapezoid };
IntegrationRule parse_integration_rule(const std::string& name);  // Captum's names: "gausslegendre", ...
std::vector<std::string> integration_rule_names();  // every name the parser takes, in order
const char* integration_rule_name(IntegrationRule rule);

struct IntegratedGradientsOptions {
  GLASSBOX_ARG(int64_t, n_steps) = 50;
  GLASSBOX_ARG(IntegrationRule, method) = IntegrationRule::gauss_legendre;
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
// Throws glassbox::Error naming n_steps when it is out of 1..kMaxIntegrationSteps (2.. for the trapezoid).
void integration_points(IntegrationRule rule, int64_t n_steps, std::vector<double>& alphas, std::vector<double>& weights);

enum class NoiseTunnelType { smoothgrad, smoothgrad_sq, vargrad };
NoiseTunnelType parse_noise_tunnel_type(const std::string& name);
std::vector<std::string> noise_tunnel_type_names();  // every name the parser takes, in order
const char* noise_tunnel_type_name(NoiseTunnelType type);

struct NoiseTunnelOptions {
  GLASSBOX_ARG(NoiseTunnelType, nt_type) = NoiseTunnelType::smoothgrad;
  GLASSBOX_ARG(int64_t, nt_samples) = 10;
  // Absolute standard deviation of the Gaussian noise. Captum's default is 1.0, as large as the whole
  // range of a [0, 1] image: the noise then drowns the image. SmoothGrad's authors found 10-20 % of
  // the input range best; 0.15 is that for [0, 1] pixels (scale it for normalised inputs).
  GLASSBOX_ARG(double, stdevs) = 0.15;
  // The noise's seed. Each noisy copy's noise is drawn once, for one sample's shape, and added to every
  // sample of the batch: a sample's SmoothGrad depends on it and its seed only, never on which other
  // samples share its batch (a server batching requests answers each as if it came alone).
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

// How CAMs read a layer's output as a map [B, C, h, w] (layer-map.h).
enum class LayerLayout {
  automatic,       // from the shape: tokens for [B, T, C]; channels last for [B, h, w, C] with the input's aspect
  channels_first,  // [B, C, h, w]: convolutions
  channels_last,   // [B, h, w, C]: Swin's stages, ConvNeXt's blocks inside
  tokens,          // [B, prefix + h * w, C]: a vision transformer's class (and other) tokens, then the patches
};
LayerLayout parse_layer_layout(const std::string& name);  // "auto" | "nchw" | "nhwc" | "tokens"
std::vector<std::string> layer_layout_names();  // every name the parser takes, in order
const char* layer_layout_name(LayerLayout layout);

// Options of the layer methods.
struct LayerOptions {
  // The layer (Classifier::layers() lists them). Empty: the layer default_cam_layer measures (the last
  // that reads as a map and whose positions the score depends on), which is what CAMs are computed on.
  GLASSBOX_ARG(std::string, layer);
  // CAMs: keep the positive part (Grad-CAM's paper and pytorch-grad-cam do; Captum's LayerGradCam calls
  // it relu_attributions and leaves it off by default).
  GLASSBOX_ARG(bool, relu) = true;
  // CAMs: [B, 1, H, W] upsampled bilinearly to the input (align_corners false, as F.interpolate); false:
  // [B, 1, h, w] at the layer's resolution.
  GLASSBOX_ARG(bool, upsample) = true;
  // ScoreCAM: masked inputs per forward pass (its memory bound); pytorch-grad-cam's batch_size.
  GLASSBOX_ARG(int64_t, internal_batch_size) = 32;
  // CAMs: how the layer's output is read as a map (pytorch-grad-cam's reshape_transform), and for
  // tokens how many come before the patches (-1: the fewest, 0 to 8, that leave a grid).
  GLASSBOX_ARG(LayerLayout, layout) = LayerLayout::automatic;
  GLASSBOX_ARG(int64_t, prefix_tokens) = -1;
};

// Every method's options together, for callers that pick the method by name at run time.
struct AttributeOptions {
  GLASSBOX_ARG(Score, score) = Score::logit;
  GLASSBOX_ARG(IntegratedGradientsOptions, integrated_gradients);
  GLASSBOX_ARG(NoiseTunnelOptions, noise_tunnel);
  GLASSBOX_ARG(OcclusionOptions, occlusion);
  GLASSBOX_ARG(LayerOptions, layer);
  GLASSBOX_ARG(DeepLiftOptions, deeplift);  // deeplift, deeplift_shap, gradient_shap
  GLASSBOX_ARG(LrpOptions, lrp);
  GLASSBOX_ARG(PerturbationOptions, perturbation);  // feature_ablation, shapley_sampling, kernel_shap, rise
};

// The method registered as `name` (methods.h), run with `options`.
at::Tensor attribute(const std::string& name, models::Classifier& model, const at::Tensor& x, const at::Tensor& targets,
                     const AttributeOptions& options = AttributeOptions());

}  // namespace glassbox::explain
