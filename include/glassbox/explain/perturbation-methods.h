// The forward-only, model-agnostic methods, with Captum's names and meanings where Captum has them:
// feature ablation, Shapley value sampling, KernelSHAP (least squares on the model's device), and RISE
// (Petsiuk et al.). Features are the cells of a grid over the image (Captum's feature_mask); every
// perturbed copy runs in batched forward passes of at most perturbations_per_eval copies of the batch.
// Random draws are made once for one sample's shape: a sample's result does not depend on its batch.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

#include "glassbox/explain/gradients.h"
#include "glassbox/models/classifier.h"
#include "glassbox/util/arg.h"

namespace glassbox::explain {

struct PerturbationOptions {
  // The side of the grid's square cells, in pixels: each cell is one feature.
  GLASSBOX_ARG(int64_t, feature_size) = 8;
  // What a removed feature's values become (in the model's input space).
  GLASSBOX_ARG(double, baseline) = 0.0;
  // shapley_sampling: random permutations (Captum's n_samples, 25); kernel_shap: coalitions (Captum's 25).
  GLASSBOX_ARG(int64_t, n_samples) = 25;
  // rise: random masks, each cell kept with this probability (the paper's N and p).
  GLASSBOX_ARG(int64_t, rise_masks) = 500;
  GLASSBOX_ARG(double, rise_probability) = 0.5;
  // Perturbed copies of the batch per forward pass: the memory bound.
  GLASSBOX_ARG(int64_t, perturbations_per_eval) = 64;
  GLASSBOX_ARG(uint64_t, seed) = 0;
};

// Captum's FeatureAblation: each feature's value is the score's drop when it alone takes the baseline.
at::Tensor feature_ablation(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets,
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

// RISE (Petsiuk et al. 2018): the mean of random smooth masks weighted by the score of the input they
// keep, divided by the keep probability: [B, 1, H, W] expanded over the channels.
at::Tensor rise(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets,
                const PerturbationOptions& options = {}, Score score = Score::logit);

}  // namespace glassbox::explain
