// Confusion: the samples a model is torn between two classes on, per sample (the seed's callback
// decided batch-wide), and mined over a whole dataset.
#pragma once

#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

#include "glassbox/data/dataset.h"
#include "glassbox/distributed/communicator.h"
#include "glassbox/models/classifier.h"
#include "glassbox/models/input-spec.h"
#include "glassbox/util/arg.h"

namespace glassbox::explain {

struct ConfusionRule {
  GLASSBOX_ARG(double, max_logit_difference) = 0.1;  // top-2 gap below this: confused
  GLASSBOX_ARG(double, min_logit_value) = 5.0;       // ... if the top logit is at least this (per sample)
};

struct ConfusedSample {
  int64_t index = 0;    // in the batch (or dataset, when mined)
  int64_t class_a = 0;  // top class
  int64_t class_b = 0;  // runner-up
  double logit_a = 0, logit_b = 0;
  double gap = 0;       // logit_a - logit_b
};

// The per-sample rule on a batch of logits [B, K]: gap < max_logit_difference and top >= min_logit_value.
std::vector<ConfusedSample> find_confused(const at::Tensor& logits, const ConfusionRule& rule = ConfusionRule());

// True where a gradient [C, H, W] carries no signal (all zero, or non-finite): such samples are
// flagged and skipped instead of drawn blank (the seed's ReLU-dead logits give exactly that).
bool gradient_vanished(const at::Tensor& gradient);
// The same for each sample of a batch of gradients [B, ...]: a [B] bool tensor, on their device.
at::Tensor gradients_vanished(const at::Tensor& gradients);

// How torn a sample is: the top-2 logit gap, the top-2 probability margin, or the entropy.
enum class RankBy { gap, margin, entropy };
RankBy parse_rank_by(const std::string& name);  // "gap" | "margin" | "entropy"
std::vector<std::string> rank_by_names();  // every name the parser takes, in order
const char* rank_by_name(RankBy by);

struct MiningOptions {
  GLASSBOX_ARG(RankBy, rank_by) = RankBy::gap;
  GLASSBOX_ARG(int64_t, top) = 16;             // how many ranked samples to return
  GLASSBOX_ARG(int64_t, batch_size) = 1000;
  GLASSBOX_ARG(double, pair_max_gap) = 1.0;    // samples with a top-2 logit gap below this count in the pair matrix
};

struct RankedSample {
  int64_t index = 0;  // in the dataset
  int64_t label = 0;
  int64_t class_a = 0, class_b = 0;
  int64_t class_c = -1;  // the third most likely class (-1 with only two classes)
  double prob_a = 0, prob_b = 0;
  double gap = 0, margin = 0, entropy = 0;
};

struct MiningResult {
  std::vector<RankedSample> ranked;  // the `top` most confused, most confused first
  at::Tensor pair_counts;            // [K, K] int64, symmetric: how often {a, b} are the top two
  int64_t samples = 0;
  double accuracy = 0;
};

// One no-grad pass over `data` (its batches made inputs by `spec`) in eval mode, then ranking. The
// explanations of the top samples are the caller's (they need gradients; the ranking does not).
MiningResult mine_confusion(models::Classifier& model, const models::InputSpec& spec, const data::Dataset& data,
                            const MiningOptions& options = MiningOptions());
// The same pass spread over the ranks of `world` (every rank calls it with the same model and data):
// each rank runs its share of the batches, and every rank gets the result one process would get,
// exactly (the same batches give the same logits).
MiningResult mine_confusion(models::Classifier& model, const models::InputSpec& spec, const data::Dataset& data,
                            const MiningOptions& options, distributed::Communicator& world);

}  // namespace glassbox::explain
