// Input gradients: d score_t(x) / dx for a batch, one target class per sample, in one backward pass.
#pragma once

#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

#include "glassbox/models/classifier.h"

namespace glassbox::explain {

// What is differentiated: the raw logit (the seed's choice), its log-softmax, or the probability.
enum class Score { logit, log_softmax, probability };
Score parse_score(const std::string& name);  // "logit" | "log_softmax" | "probability"
std::vector<std::string> score_names();  // every name the parser takes, in order

struct GradientResult {
  at::Tensor gradients;  // like x
  at::Tensor scores;     // [B], the differentiated score of each sample's target
  at::Tensor logits;     // [B, K], detached
};

// The scores of `targets` ([B] int64) for a batch of logits.
at::Tensor target_scores(const at::Tensor& logits, const at::Tensor& targets, Score score);

// Runs `model` in eval mode (its mode is restored after) on x [B, C, H, W] and returns the gradient of
// each sample's target score with respect to its own input. Uses torch::autograd::grad on the input
// only: the parameters' .grad is never touched. Checks the targets' range and that the logits are
// finite, throwing glassbox::Error otherwise.
GradientResult input_gradients(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets,
                               Score score = Score::logit);

// The same without the checks and the mode guard: for attribution loops that call it many times.
at::Tensor input_gradients_unchecked(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets,
                                     Score score, at::Tensor* scores_out = nullptr);

// Checks targets are int64 [B] within [0, classes).
void check_targets(const at::Tensor& targets, int64_t batch, int64_t classes);

// Checks x is a batch [B, C, H, W] of the model's input shape, with one valid target per sample.
void check_batch(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets);

}  // namespace glassbox::explain
