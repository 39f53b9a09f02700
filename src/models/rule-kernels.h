// CPU kernels for the rule backwards that dominate the methods' time: each is one pass over memory
// where the device-neutral composition of ATen calls (rule-operators.cpp) makes five to ten, and the
// rules run on every activation and pool of the network. Used for contiguous float32 CPU tensors; every
// other device and type takes the composition, which is the definition these kernels are tested against.
#pragma once

#include <ATen/core/Tensor.h>

#include "rule-operators.h"

namespace glassbox::models::rule_kernels {

// Whether the kernels below take these tensors (CPU, float32).
bool applies(const at::Tensor& x);

// Guided Backprop through relu: g where both g and x are positive, else 0.
at::Tensor guided_relu_backward(const at::Tensor& x, const at::Tensor& g);

// Whether rescale_backward has a kernel for this activation (the piecewise-linear ones).
bool has_rescale_kernel(rule_ops::Activation kind);
// DeepLift's Rescale rule through f, the batch [inputs; references]: both halves' multiplier is
// (f(x) - f(x_ref)) / (x - x_ref), or each half's own derivative where the two are closer than eps.
at::Tensor rescale_backward(const at::Tensor& x, const at::Tensor& g, rule_ops::Activation kind, double a, double b, double eps);

// Captum's Rescale rule for max pooling (rule-operators.cpp says what it computes), from the forward's
// pooled values and argmax indices [2n, C, h, w] (flat in each input plane).
at::Tensor rescale_max_pool_backward(const at::Tensor& x, const at::Tensor& pooled, const at::Tensor& indices,
                                     const at::Tensor& g, double eps);

// LRP's s = R / (z + epsilon * sign(z)), sign(0) = 1, in one pass (R and z of one shape), written into
// `into` where defined (a contiguous tensor of z's shape; z itself may be it), else into a new tensor.
at::Tensor stabilized_divide(const at::Tensor& relevance, const at::Tensor& z, double epsilon, const at::Tensor& into);

}  // namespace glassbox::models::rule_kernels
