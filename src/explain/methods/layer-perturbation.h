// What the gradient-free CAMs that change a layer share (Ablation-CAM, ReciproCAM): a sample's layer
// activation read as a map, many altered copies of that map, and the target's score when the rest of
// the network runs on each copy (Classifier::forward_replacing_layer), a bounded number per pass.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <string>

#include "glassbox/explain/gradients.h"
#include "glassbox/explain/layer-map.h"
#include "glassbox/models/classifier.h"

namespace glassbox::explain {

// Altered maps number first .. first + count - 1, [count, C, h, w].
using MapMaker = std::function<at::Tensor(int64_t first, int64_t count)>;

struct LayerPerturbation {
  models::Classifier& model;
  const at::Tensor& x;       // one sample, [1, C, H, W]
  const std::string& layer;
  const MapReading& reading;
  const at::Tensor& output;  // the layer's output for x, [1, ...]: tokens outside the map are kept from it
  int64_t target = 0;
  Score score = Score::logit;
  int64_t rows_per_pass = 32;  // altered maps per forward pass: the memory bound
};

// The target's score for each of `count` altered maps, [count], computed without gradients in eval mode.
at::Tensor perturbed_scores(const LayerPerturbation& p, int64_t count, const MapMaker& make);

}  // namespace glassbox::explain
