// What the layer methods share: choosing the layer, its activation and the gradients of the class
// scores with respect to it (torch::autograd::grad on the activation: the backward stops at the layer),
// and turning a map at the layer's resolution into one over the input.
#pragma once

#include <ATen/core/Tensor.h>

#include <string>

#include "glassbox/explain/attribution.h"
#include "glassbox/models/classifier.h"

namespace glassbox::explain {

// Where CAMs are computed when no layer is named, measured on the model: the last layer (the outermost
// module of those giving the same grid) whose output reads as a map (layer-map.h: N x C x H x W, channels
// last or tokens, H, W > 1) and whose positions the top class's score depends on, for a fixed probe
// input. The second condition passes over a vision transformer's last block, whose patch tokens no
// longer reach the class token, and lands on that block's first norm, where pytorch-grad-cam's tutorial
// puts it. Throws glassbox::Error when the model has none.
std::string default_cam_layer(models::Classifier& model);

// `options.layer`, or default_cam_layer when it is empty.
std::string resolved_layer(models::Classifier& model, const LayerOptions& options);

struct LayerActivation {
  at::Tensor activation;  // [B, ...], detached
  at::Tensor gradients;   // d score_t / d activation, per sample; undefined when not asked for
  at::Tensor logits;      // [B, K], detached
};

// Runs the model once (eval mode, restored after) and takes, when `with_gradients`, the gradient of each
// sample's target score with respect to the layer's activation. Errors name the layer: a layer that is
// the logits (or after them), or one the scores do not depend on.
LayerActivation layer_activation(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets,
                                 const std::string& layer, Score score, bool with_gradients);

// A CAM [B, h, w]: its positive part when options.relu, then [B, 1, H, W] over the input x when
// options.upsample (bilinear, align_corners false), else [B, 1, h, w].
at::Tensor finish_cam(at::Tensor cam, const at::Tensor& x, const LayerOptions& options);

}  // namespace glassbox::explain
