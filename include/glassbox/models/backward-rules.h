// Rules that change a network's backward pass and leave its forward as it is: the ReLU rules of Guided
// Backprop and Deconvnet, DeepLift's Rescale multipliers, LRP's rules for linear and convolution layers.
// A model applies them to a copy of its forward (a TorchScript module: its graph, copied and rewritten;
// a built-in model: its operations), each covered operation replaced by a glassbox operator with the same
// forward and the rule's backward (rule-operators.h), so that one ordinary backward pass computes the
// method. The model itself is never changed.
//
// What a rule set covers, per kind of operation in the graph (an operation it does not cover is an error
// naming it, never a silent fallback to the plain gradient):
//   - linear maps of the input (view, flatten, permute, cat, slicing, dropout in eval, average pooling,
//     padding, sums and means, adding or multiplying by something that does not depend on the input),
//     batch norm in eval mode, max pooling: the gradient, which is what every rule set wants for them
//     (LRP: batch norm only once merged into the convolution before it; max pooling: winner takes all);
//   - activations (relu and its in-place form, relu6/hardtanh, leaky_relu, elu, gelu, silu, sigmoid, tanh,
//     softplus): the activation rule; Guided Backprop and Deconvnet cover relu (and relu6's lower
//     bend) only, since their rule is defined for ReLU;
//   - linear and conv2d: the layer rules (LRP), else the gradient;
//   - adding two tensors that both depend on the input (a residual): LRP splits the relevance in
//     proportion to the two terms (the ε rule of a sum); the others take the gradient;
//   - softmax (and the probability score): DeepLift's rule for it (Captum's: Rescale, then centred along
//     its dimension); the others keep its gradient (Guided Backprop, Deconvnet) or refuse it (LRP);
//   - products of two input-dependent tensors (attention, gating), layer norm, and any other
//     operation: covered only by the rule sets that keep the plain gradient there (Guided Backprop and
//     Deconvnet, as Captum's change only ReLU's backward).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "glassbox/util/arg.h"

namespace glassbox::models {

// What an activation's backward becomes.
enum class ActivationRule {
  gradient,   // unchanged
  guided,     // Guided Backprop: relu(gradient) where the input was positive
  deconvnet,  // Deconvnet: relu(gradient), whatever the input
  pass,       // LRP: relevance passes through unchanged
  rescale,    // DeepLift's Rescale: gradient * (f(x) - f(x0)) / (x - x0) against the reference half of the batch
};

// What a linear or convolution layer's backward becomes (LRP's rules, as Zennit names them).
enum class LayerRule {
  gradient,  // unchanged
  epsilon,   // z = Wx + b, R_in = x * W^T (R / (z + epsilon * sign(z)))
  gamma,     // the same with W + gamma * W+ and b + gamma * b+ (positive contributions favoured)
  zplus,     // alpha1-beta0: only positive contributions, W+ x+ + W- x-, no bias
  zbox,      // z^B: for the layer reading the input, bounded by low and high
};
LayerRule parse_layer_rule(const std::string& name);  // "gradient" | "epsilon" | "gamma" | "zplus" | "zbox"
const char* layer_rule_name(LayerRule rule);

// A full rule set: what a method asks a model to run.
struct BackwardRules {
  // The method, for errors: "lrp: the model's aten::layer_norm (node 12) is not covered ...".
  GLASSBOX_ARG(std::string, method);
  GLASSBOX_ARG(ActivationRule, activation) = ActivationRule::gradient;
  // Max pooling: DeepLift's Rescale rule for pools (Captum's maxpool) instead of the gradient.
  GLASSBOX_ARG(bool, rescale_max_pool) = false;
  // LRP: the rule of the first linear or convolution layer (the one reading the model's input; none:
  // the rule of its kind), of the convolutions, and of the linear (dense) layers.
  GLASSBOX_ARG(std::optional<LayerRule>, first_layer);
  GLASSBOX_ARG(LayerRule, convolutions) = LayerRule::gradient;
  GLASSBOX_ARG(LayerRule, dense) = LayerRule::gradient;
  // LRP: relevance through sums: residual additions split in proportion to their terms; batch norms
  // merged into the convolution before them (a canonizer, in Zennit's word), else an error; operations
  // that mix inputs non-linearly (products, softmax, normalisation) are errors.
  // (DeepLift's softmax rule comes with activation rescale.)
  GLASSBOX_ARG(bool, relevance) = false;
  // The stabiliser of epsilon, gamma, zbox; gamma's factor; zbox's bounds of the input (one value, or
  // one per channel; empty: each sample's channels' smallest and largest values).
  GLASSBOX_ARG(double, epsilon) = 1e-6;
  GLASSBOX_ARG(double, gamma) = 0.25;
  GLASSBOX_ARG(std::vector<double>, low);
  GLASSBOX_ARG(std::vector<double>, high);

 public:
  // Whether any backward is changed (a rule set that changes none runs plain forward).
  bool changes_backward() const;
  // A key naming the discrete choices (not the numbers), for caching rewritten graphs.
  std::string structure_key() const;
};

}  // namespace glassbox::models
