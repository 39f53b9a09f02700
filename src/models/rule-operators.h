// The operators behind backward-rules.h: each has the forward of an ordinary operation and the backward
// of a rule. They are registered with the dispatcher as glassbox::activation, glassbox::max_pool2d,
// glassbox::lrp_linear, glassbox::lrp_conv2d, glassbox::lrp_add and glassbox::softmax (a rewritten TorchScript graph calls
// them by those names), and callable directly from C++ (the built-in models call them).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

#include "glassbox/models/backward-rules.h"

namespace glassbox::models::rule_ops {

// The activations the rules know, with their parameters a and b.
enum class Activation : int64_t {
  relu,        // -
  hardtanh,    // a = min, b = max (relu6: 0, 6)
  leaky_relu,  // a = negative slope
  elu,         // a = alpha
  gelu,        // a = 0: exact, 1: tanh approximation
  silu,        // -
  sigmoid,     // -
  tanh,        // -
  softplus,    // a = beta, b = threshold
};

// f(x) with the rule's backward. The rescale rule reads the batch as [inputs; references], two halves.
at::Tensor activation(const at::Tensor& x, Activation kind, double a, double b, ActivationRule rule);

// max_pool2d whose backward is DeepLift's Rescale rule for pools (Captum's maxpool), batch as [inputs; references].
at::Tensor rescale_max_pool2d(const at::Tensor& x, at::IntArrayRef kernel, at::IntArrayRef stride,
                              at::IntArrayRef padding, at::IntArrayRef dilation, bool ceil_mode);

// softmax(x, dim) whose backward is DeepLift's rule for softmax (Captum's, centred per row), batch as [inputs; references].
at::Tensor rescale_softmax(const at::Tensor& x, int64_t dim);

// The numbers of an LRP layer rule.
struct LayerRuleParameters {
  LayerRule rule = LayerRule::epsilon;
  double epsilon = 1e-6;
  double gamma = 0.25;
  at::Tensor low, high;  // zbox: broadcastable to the layer's input (one row)
};

// linear(x, weight, bias) / conv2d(...) whose backward turns the relevance of its output into that of its input.
at::Tensor lrp_linear(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, const LayerRuleParameters& p);
at::Tensor lrp_conv2d(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, at::IntArrayRef stride,
                      at::IntArrayRef padding, at::IntArrayRef dilation, int64_t groups, const LayerRuleParameters& p);

// a + alpha * b whose backward splits the relevance of the sum in proportion to the two terms.
at::Tensor lrp_add(const at::Tensor& a, const at::Tensor& b, double alpha, double epsilon);

}  // namespace glassbox::models::rule_ops
