// What the perturbation metrics share: checking attributions against the input, the pixel order, the
// per-sample random generators and running many perturbed inputs through the model in bounded batches.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>

#include "glassbox/evaluate/faithfulness.h"
#include "glassbox/evaluate/metrics.h"
#include "glassbox/explain/gradients.h"
#include "glassbox/models/classifier.h"

namespace glassbox::evaluate {

// Checks x is a batch the model takes with one target each, and that attributions are like x or
// [B, 1, H, W] (a map over it); `what` names the metric in the errors.
void check_metric_inputs(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets,
                         const at::Tensor& attributions, const char* what);

// The attribution summed over channels, per pixel: [B, H * W] float on x's device.
at::Tensor pixel_relevance(const at::Tensor& attributions);

// The request's method with its options, for the metrics that explain again; throws glassbox::Error
// naming `metric` and saying `why` it explains when the request carries attributions only.
ExplainFunction method_explainer(const MetricRequest& request, const char* metric, const char* why);

// Each pixel's place in the order of decreasing relevance (0 = most relevant; ties by index, as a stable
// sort): [B, H * W] int64.
at::Tensor pixel_ranks(const at::Tensor& relevance);

// A CPU generator for sample `index` of a metric seeded with `seed`.
at::Generator sample_generator(uint64_t seed, int64_t index);

// Perturbed inputs per forward pass for inputs like x: `requested`, or for 0 as many as hold 2^16 input
// values on a CPU (2^23 on a GPU); at least 1.
int64_t rows_per_pass(int64_t requested, const at::Tensor& x);

// Runs rows [0, rows) made by make(begin, end) -> [end - begin, C, H, W] through the model without
// gradients, `per_eval` a pass (0: the fastest size, found on the first rows on a CPU; rows_per_pass on a
// GPU; `like` is an input, for its size and device), in eval mode (restored after), and returns each
// row's score for targets[row] ([rows] float on the model's device; nothing leaves the device).
at::Tensor scores_in_batches(models::Classifier& model, int64_t rows,
                             const std::function<at::Tensor(int64_t begin, int64_t end)>& make,
                             const at::Tensor& row_targets, explain::Score score, int64_t per_eval, const at::Tensor& like);

// Draws `count` perturbations per sample: draw(copies, generator) gets x[i] repeated [count, C, H, W]
// (float, CPU) and the sample's generator and returns a tensor like it; [B * count, C, H, W] on x's
// device, sample-major.
at::Tensor draw_per_sample(const at::Tensor& x, int64_t count, uint64_t seed, int64_t first_sample,
                           const std::function<at::Tensor(const at::Tensor& sample, at::Generator& generator)>& draw);

}  // namespace glassbox::evaluate
