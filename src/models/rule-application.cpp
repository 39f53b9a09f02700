#include "rule-application.h"

#include <ATen/ATen.h>

#include "glassbox/util/error.h"

namespace glassbox::models {
namespace {

// One value, or one per channel, as [1, C, H, W] for the batch x (a scalar tensor for one value);
// `fallback` (the batch's own per-channel range) when none are given.
at::Tensor bound(const std::vector<double>& values, const at::Tensor& x, const char* name, const at::Tensor& fallback) {
  const auto options = x.options().dtype(x.is_floating_point() ? x.scalar_type() : at::kFloat);
  if (values.empty()) return fallback;
  for (double v : values) GLASSBOX_CHECK(std::isfinite(v), "lrp ", name, ": ", v, ", expected a finite number");
  if (values.size() == 1) return at::scalar_tensor(values[0], options);
  GLASSBOX_CHECK(x.dim() == 4 && static_cast<int64_t>(values.size()) == x.size(1), "lrp ", name, ": ", values.size(),
                 " values, expected 1 or one per channel (", x.dim() == 4 ? x.size(1) : 0, ")");
  return at::tensor(values, options.device(at::kCPU)).to(x.device()).view({1, -1, 1, 1}).expand({1, x.size(1), x.size(2), x.size(3)});
}

}  // namespace

RuleApplication::RuleApplication(const BackwardRules& rules, const at::Tensor& x) : rules_(rules) {
  const bool box = rules.first_layer() == std::optional<LayerRule>(LayerRule::zbox) || rules.convolutions() == LayerRule::zbox ||
                   rules.dense() == LayerRule::zbox;
  if (!box) {
    low_ = high_ = at::zeros({}, x.options());
    return;
  }
  GLASSBOX_CHECK(x.dim() == 4, "lrp: zbox bounds for an input ", x.sizes(), ", expected [B, C, H, W]");
  // Each sample's own channel ranges, so that a sample's relevance does not depend on its batch.
  const at::Tensor detached = x.detach();
  auto range = [&](bool lowest) {
    const at::Tensor per_channel = lowest ? detached.amin({2, 3}, true) : detached.amax({2, 3}, true);
    return per_channel.expand_as(x);
  };
  low_ = bound(rules.low(), x, "low", rules.low().empty() ? range(true) : at::Tensor());
  high_ = bound(rules.high(), x, "high", rules.high().empty() ? range(false) : at::Tensor());
}

rule_ops::LayerRuleParameters RuleApplication::parameters(LayerRule rule) const {
  rule_ops::LayerRuleParameters p;
  p.rule = rule;
  p.epsilon = rules_.epsilon();
  p.gamma = rules_.gamma();
  p.low = low_;
  p.high = high_;
  return p;
}

at::Tensor RuleApplication::relu(const at::Tensor& x) const {
  if (rules_.activation() == ActivationRule::gradient) return at::relu(x);
  return rule_ops::activation(x, rule_ops::Activation::relu, 0, 0, rules_.activation());
}

at::Tensor RuleApplication::max_pool2d(const at::Tensor& x, int64_t kernel) const {
  if (!rules_.rescale_max_pool()) return at::max_pool2d(x, {kernel, kernel});
  return rule_ops::rescale_max_pool2d(x, {kernel, kernel}, {kernel, kernel}, {0, 0}, {1, 1}, false);
}

at::Tensor RuleApplication::linear(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, bool first) const {
  const LayerRule rule = first && rules_.first_layer() ? *rules_.first_layer() : rules_.dense();
  if (rule == LayerRule::gradient) return at::linear(x, weight, bias.defined() ? c10::optional<at::Tensor>(bias) : c10::nullopt);
  return rule_ops::lrp_linear(x, weight, bias, parameters(rule));
}

at::Tensor RuleApplication::conv2d(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                                   at::IntArrayRef stride, at::IntArrayRef padding, bool first) const {
  const LayerRule rule = first && rules_.first_layer() ? *rules_.first_layer() : rules_.convolutions();
  if (rule == LayerRule::gradient) return at::conv2d(x, weight, bias.defined() ? c10::optional<at::Tensor>(bias) : c10::nullopt, stride, padding);
  return rule_ops::lrp_conv2d(x, weight, bias, stride, padding, {1, 1}, 1, parameters(rule));
}

}  // namespace glassbox::models
