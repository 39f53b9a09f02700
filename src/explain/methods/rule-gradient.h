// What the methods that change the backward share: the gradient of each sample's target score with
// respect to its input, through the model run under a rule set (Classifier::forward_with_rules).
#pragma once

#include <ATen/ATen.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/grad_mode.h>

#include "glassbox/explain/gradients.h"
#include "glassbox/models/backward-rules.h"
#include "glassbox/models/classifier.h"
#include "glassbox/util/error.h"
#include "../../models/rule-operators.h"

namespace glassbox::explain {

struct RuleGradient {
  at::Tensor gradients;  // like x
  at::Tensor scores;     // [rows], detached
};

// `seed_with_scores`: the backward starts from each score's own value rather than 1 (LRP's relevance of
// the output is the logit). The caller holds the model in eval mode.
inline RuleGradient rule_gradient(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets, Score score,
                                  const models::BackwardRules& rules, bool seed_with_scores = false) {
  torch::autograd::AutoGradMode enable(true);
  const at::Tensor input = x.detach().requires_grad_(true);
  const at::Tensor logits = model.forward_with_rules(input, rules);
  GLASSBOX_CHECK(at::isfinite(logits).all().item<bool>(), model.name(), ": non-finite logits (NaN or Inf) for this input");
  at::Tensor scores;
  if (rules.activation() == models::ActivationRule::rescale && score != Score::logit) {
    // The softmax outside the model is under the rules too: DeepLift's rule for it, never its gradient.
    if (score != Score::probability)
      throw Error::about("score", score_names()[static_cast<size_t>(score)],
                         rules.method() + "'s rules cover the logit and the probability (softmax's rule), not this");
    scores = models::rule_ops::rescale_softmax(logits, 1).gather(1, targets.view({-1, 1})).squeeze(1);
  } else {
    scores = target_scores(logits, targets, score);
  }
  const at::Tensor seed = seed_with_scores ? scores.detach() : at::ones_like(scores);
  const at::Tensor grad = torch::autograd::grad({scores}, {input}, {seed}, false, false, true)[0];
  return {grad.defined() ? grad : at::zeros_like(x), scores.detach()};
}

}  // namespace glassbox::explain
