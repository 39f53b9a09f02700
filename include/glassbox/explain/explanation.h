// One call from a model and a batch of inputs to their explanation: the model's prediction, the class
// each sample is explained for, the layer a layer method used (the default CAM layer unless one is
// given), and the attributions, spread over ranks when a world is given. What a command line, a
// server or a program explaining a batch needs, so that they all choose targets and layers the same way.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>

#include "glassbox/distributed/communicator.h"
#include "glassbox/explain/attribution.h"
#include "glassbox/explain/methods.h"
#include "glassbox/models/model.h"
#include "glassbox/util/arg.h"

namespace glassbox::explain {

// Which class each sample is explained for.
struct Target {
  enum class Kind {
    class_index,  // the same class for every sample
    top,          // each sample's most likely class
    top2,         // the most likely class; the runner-up is kept for the two-class figure
  };
  Kind kind = Kind::top;
  int64_t class_index = -1;  // for class_index
};
// "top", "top2" or a class index (decimal); throws glassbox::Error::about("target", text, ...).
Target parse_target(const std::string& text);

struct ExplainOptions {
  GLASSBOX_ARG(Target, target);
  // Each sample's own class, overriding `target` when defined: [B] int64 holding a class index, or -1 for
  // the sample's most likely class and -2 for its runner-up (a server batching requests that ask
  // different classes, or two classes of one input).
  GLASSBOX_ARG(at::Tensor, per_sample_targets);
  // The method's options; for a layer method with no layer given, the default CAM layer is taken.
  GLASSBOX_ARG(AttributeOptions, attribute);
};

struct Explanation {
  at::Tensor probabilities;  // [B, K] softmax of the logits, double, on the CPU
  at::Tensor ranked;         // [B, 2] each sample's two most likely classes, on the inputs' device
  at::Tensor targets;        // [B] the classes explained, on the inputs' device
  at::Tensor attributions;   // the method's output for the targets, on the CPU
  std::string layer;         // the layer a layer method worked on
  bool default_layer = false;  // whether that layer was chosen here (nothing was given)
  // For a CAM, how the layer's output was read as a map: "[1, 197, 768] read as 1 class token + 14 x 14
  // tokens of 768 channels" (layer-map.h).
  std::string layer_reading;
  bool reshaped = false;  // whether that reading was other than [B, C, h, w] as it is
  // For a layer method that attributes to the layer's output as it is (layer_gxa, layer_ig): those
  // attributions read as a map [B, C, h, w] the same way, for drawing; undefined when they are not one.
  at::Tensor attribution_map;
};

// Explains `x` (inputs prepared by model.spec(), on the model's device). Throws glassbox::Error::about
// "target" (a class out of range), "method" (a layer method on a model without a CAM layer) or "layer";
// an error naming the model when its logits are not finite. With `world`, every rank calls it with the
// same inputs, each explains a block of the batch, and every rank gets all attributions, in order.
Explanation explain_batch(const models::Model& model, const at::Tensor& x, const AttributionMethod& method,
                          const ExplainOptions& options, distributed::Communicator* world = nullptr);

}  // namespace glassbox::explain
