// The forward-only, model-agnostic methods, with Captum's names and meanings where Captum has them:
// feature ablation, feature permutation, Shapley value sampling, KernelSHAP and LIME (least squares on
// the model's device), and RISE (Petsiuk et al.). Features (Captum's feature_mask) are the cells of a
// grid over the image, or each sample's SLIC superpixels; every perturbed copy runs in batched forward
// passes of at most perturbations_per_eval copies of the batch. Random draws are made once for one
// sample's shape: a sample's result does not depend on its batch (feature permutation aside, which
// exchanges features between the batch's samples by definition).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

#include <string>
#include <vector>

#include "glassbox/explain/gradients.h"
#include "glassbox/explain/superpixels.h"
#include "glassbox/models/classifier.h"
#include "glassbox/util/arg.h"

namespace glassbox::explain {

// What the features are.
enum class FeatureMaskKind {
  grid,         // square cells of feature_size pixels, the same for every sample
  superpixels,  // each sample's own SLIC superpixels (superpixels.h), computed from its picture
};
FeatureMaskKind parse_feature_mask_kind(const std::string& name);  // "grid" | "superpixels"
std::vector<std::string> feature_mask_kind_names();
const char* feature_mask_kind_name(FeatureMaskKind kind);

struct PerturbationOptions {
  GLASSBOX_ARG(FeatureMaskKind, feature_mask) = FeatureMaskKind::grid;
  // grid: the side of the square cells, in pixels (rise: of its random grid's cells, whatever the mask).
  GLASSBOX_ARG(int64_t, feature_size) = 8;
  // superpixels: their number and compactness.
  GLASSBOX_ARG(SlicOptions, slic);
  // What a removed feature's values become (in the model's input space).
  GLASSBOX_ARG(double, baseline) = 0.0;
  // shapley_sampling: random permutations (Captum's n_samples, 25); kernel_shap: coalitions (Captum's
  // 25); lime: random samples (Captum's Lime takes 50, the lime package 1000).
  GLASSBOX_ARG(int64_t, n_samples) = 25;
  // rise: random masks, each cell kept with this probability (the paper's N and p).
  GLASSBOX_ARG(int64_t, rise_masks) = 500;
  GLASSBOX_ARG(double, rise_probability) = 0.5;
  // lime: the ridge penalty of the linear fit and the width of the proximity kernel (the lime package's
  // image explainer: Ridge(alpha=1), kernel width 0.25 on the cosine distance of the kept-feature vectors).
  GLASSBOX_ARG(double, lime_alpha) = 1.0;
  GLASSBOX_ARG(double, lime_kernel_width) = 0.25;
  // Perturbed copies of the batch per forward pass: the memory bound.
  GLASSBOX_ARG(int64_t, perturbations_per_eval) = 64;
  GLASSBOX_ARG(uint64_t, seed) = 0;
};

// Captum's FeatureAblation: each feature's value is the score's drop when it alone takes the baseline.
at::Tensor feature_ablation(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets,
                            const PerturbationOptions& options = {}, Score score = Score::logit);

// Captum's FeaturePermutation: each feature's value is the score's drop when that feature's values are
// exchanged between the batch's samples (a random permutation of the batch that moves something, one per
// feature). Needs a batch of at least 2 and one mask for all (the grid).
at::Tensor feature_permutation(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets,
                               const PerturbationOptions& options = {}, Score score = Score::logit);

// Captum's ShapleyValueSampling: each feature's marginal contribution, averaged over random orders in
// which features are added to the baseline (n_samples orders, F + 1 evaluations each).
at::Tensor shapley_value_sampling(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets,
                                  const PerturbationOptions& options = {}, Score score = Score::logit);

// KernelSHAP (Lundberg and Lee; Captum's KernelShap): coalitions drawn from the Shapley kernel's
// distribution over their sizes, the empty and the full coalition always included (weighted heavily, so
// that the values add up to F(x) - F(baseline)), and a linear model with intercept fit by least squares.
at::Tensor kernel_shap(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets,
                       const PerturbationOptions& options = {}, Score score = Score::logit);

// LIME (Ribeiro et al. 2016) as the lime package's image explainer runs it: n_samples random subsets of
// the features (each kept with probability 1/2) and the input itself, weighted by
// sqrt(exp(-d^2 / width^2)) with d the cosine distance of the kept-feature vector to all-kept, and a
// weighted ridge regression with intercept (the intercept not penalised), solved on the model's device.
at::Tensor lime(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets,
                const PerturbationOptions& options = {}, Score score = Score::logit);

// The weighted ridge regression LIME fits (KernelSHAP too, with alpha 0): design [S, F], responses [S, B], weights [S] -> the
// coefficients [F, B] of y = intercept + X beta minimising sum_s w_s (y_s - ...)^2 + alpha |beta|^2.
at::Tensor weighted_ridge(const at::Tensor& design, const at::Tensor& responses, const at::Tensor& weights, double alpha);

// RISE (Petsiuk et al. 2018): the mean of random smooth masks weighted by the score of the input they
// keep, divided by the keep probability: [B, 1, H, W] expanded over the channels.
at::Tensor rise(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets,
                const PerturbationOptions& options = {}, Score score = Score::logit);

}  // namespace glassbox::explain
