// One rule set (backward-rules.h) applied operation by operation: what the built-in models' forward calls
// under rules, and the bounds a rewritten TorchScript graph is given.
#pragma once

#include <ATen/core/Tensor.h>

#include "glassbox/models/backward-rules.h"
#include "rule-operators.h"

namespace glassbox::models {

class RuleApplication {
 public:
  // `x`: the batch the model is about to run (zbox bounds left empty are its channels' ranges).
  RuleApplication(const BackwardRules& rules, const at::Tensor& x);

  const BackwardRules& rules() const { return rules_; }
  // zbox's bounds: [1, C, H, W] (or one value) on x's device.
  const at::Tensor& low() const { return low_; }
  const at::Tensor& high() const { return high_; }
  rule_ops::LayerRuleParameters parameters(LayerRule rule) const;

  at::Tensor relu(const at::Tensor& x) const;
  at::Tensor max_pool2d(const at::Tensor& x, int64_t kernel) const;
  // `first`: the layer reading the model's input.
  at::Tensor linear(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, bool first) const;
  at::Tensor conv2d(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, at::IntArrayRef stride,
                    at::IntArrayRef padding, bool first) const;

 private:
  BackwardRules rules_;
  at::Tensor low_, high_;
};

}  // namespace glassbox::models
