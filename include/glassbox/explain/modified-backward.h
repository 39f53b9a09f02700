// The methods that change the backward pass (models/backward-rules.h), with Captum's and Zennit's names
// and meanings: Guided Backprop and Deconvnet (ReLU rules), Guided Grad-CAM, DeepLift (Rescale) and
// DeepLiftShap, LRP with Zennit's composites; and GradientShap, which keeps the gradient but shares
// DeepLiftShap's distribution of baselines. They run on TorchScript models too: the model runs a
// rewritten copy of its graph, never hooks.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

#include "glassbox/explain/gradients.h"
#include "glassbox/models/backward-rules.h"
#include "glassbox/models/classifier.h"
#include "glassbox/util/arg.h"

namespace glassbox::explain {

// Guided Backprop (Springenberg et al.; Captum's GuidedBackprop): the gradient with each ReLU passing back
// only positive gradient where its input was positive.
at::Tensor guided_backprop(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets,
                           Score score = Score::logit);

// Deconvnet (Zeiler and Fergus; Captum's Deconvolution): each ReLU passes back the positive gradient.
at::Tensor deconvnet(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets, Score score = Score::logit);

struct DeepLiftOptions {
  // deeplift: the reference, a constant image of this value in the model's input space (Captum's
  // default baseline is zeros).
  GLASSBOX_ARG(double, baseline) = 0.0;
  // deeplift_shap, gradient_shap without given baselines: how many references are drawn per sample,
  // each pixel uniformly within its channel's range in that sample (random_baselines).
  GLASSBOX_ARG(int64_t, n_baselines) = 8;
  // Their seed (and gradient_shap's noise and points'): a sample's attribution depends on it and its
  // input only.
  GLASSBOX_ARG(uint64_t, seed) = 0;
  // gradient_shap: random points per input (Captum's n_samples) and the input noise's standard deviation.
  GLASSBOX_ARG(int64_t, n_samples) = 5;
  GLASSBOX_ARG(double, stdevs) = 0.0;
};

struct DeepLiftResult {
  at::Tensor attributions;  // like x
  at::Tensor delta;         // [B]: sum(attributions) - (F(x) - F(baseline)): DeepLift's summation-to-delta, ~0
};

// DeepLift with the Rescale rule (Captum's DeepLift): (x - baseline) times the multipliers, which replace
// each activation's derivative by (f(x) - f(x0)) / (x - x0) and route max pools' differences. One
// forward of [x; baseline] and one backward. `baselines`: undefined = zeros; like x, or [1, C, H, W].
// Activations relu, relu6, leaky_relu, elu, gelu, silu, sigmoid, tanh, softplus and max pooling are covered;
// products of input-dependent tensors, softmax and normalisations other than batch norm are errors.
DeepLiftResult deeplift(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets,
                        const at::Tensor& baselines = {}, Score score = Score::logit);

// DeepLiftShap (Captum's): DeepLift against each of `baselines`, averaged: [K, C, H, W] shared by every
// sample, or [B, K, C, H, W], a set per sample.
DeepLiftResult deeplift_shap(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets,
                             const at::Tensor& baselines, Score score = Score::logit);

// GradientShap (Captum's): the mean over n_samples of grad(b + a (x' - b)) * (x' - b), with b drawn from
// `baselines` (as deeplift_shap's), a uniform in [0, 1] and x' = x plus Gaussian noise of stdevs. Plain gradients.
at::Tensor gradient_shap(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets,
                         const at::Tensor& baselines, const DeepLiftOptions& options = DeepLiftOptions(),
                         Score score = Score::logit);

// K references per sample, [B, K, C, H, W]: each pixel within its channel's [min, max] in that sample, at
// fractions drawn once from `seed` for one sample's shape, so that a sample's references do not depend
// on the rest of its batch.
at::Tensor random_baselines(const at::Tensor& x, int64_t n_baselines, uint64_t seed);
// `baselines` [K, C, H, W] (shared) or [B, K, C, H, W], checked against x, as [B, K, C, H, W] on x's device.
at::Tensor per_sample_baselines(const at::Tensor& baselines, const at::Tensor& x);

// Zennit's composites: which LRP rule each layer gets.
enum class LrpComposite {
  epsilon,            // epsilon everywhere
  gamma,              // gamma everywhere
  zplus,              // z+ (alpha1-beta0) everywhere
  epsilon_plus,       // epsilon for dense layers, z+ for convolutions (Zennit's EpsilonPlus)
  epsilon_gamma_box,  // epsilon for dense, gamma for convolutions, z^B for the input layer (EpsilonGammaBox)
  epsilon_plus_box,   // epsilon for dense, z+ for convolutions, z^B for the input layer
};
LrpComposite parse_lrp_composite(const std::string& name);
std::vector<std::string> lrp_composite_names();
const char* lrp_composite_name(LrpComposite composite);

struct LrpOptions {
  GLASSBOX_ARG(LrpComposite, composite) = LrpComposite::epsilon_gamma_box;
  // The epsilon rule's stabiliser (Zennit's default).
  GLASSBOX_ARG(double, epsilon) = 1e-6;
  // The gamma rule's weight on positive contributions (Zennit's default).
  GLASSBOX_ARG(double, gamma) = 0.25;
  // z^B's bounds on the input, one value or one per channel, in the model's input space; empty: each
  // sample's channel ranges. For [0, 1] pixels normalised by (mean, std): (0 - mean) / std and
  // (1 - mean) / std, which explain() fills in from the model's input specification.
  GLASSBOX_ARG(std::vector<double>, low);
  GLASSBOX_ARG(std::vector<double>, high);
};

// The rule set a composite stands for.
models::BackwardRules lrp_rules(const LrpOptions& options);

struct LrpResult {
  at::Tensor relevance;  // like x: the target logit's relevance, per input value
  at::Tensor logits;     // [B]: each sample's target logit, the relevance the backward starts from
};

// Layer-wise Relevance Propagation (Bach et al.; Montavon et al.'s rules, Zennit's composites): the target
// logit's value propagated back layer by layer, each linear and convolution layer by its rule, relevance
// passing through activations, split at residual sums in proportion to their terms, batch norms merged
// into the layer before them. With epsilon -> 0 and no biases the relevances sum to the logit.
LrpResult lrp(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets,
              const LrpOptions& options = LrpOptions());

}  // namespace glassbox::explain
