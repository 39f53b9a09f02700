// What the gradient-free CAMs that change a layer share (Ablation-CAM, ReciproCAM): a sample's layer
// activation read as a map, many altered copies of that map, and the target's score when the rest of
// the network runs on each copy (Classifier::forward_replacing_layer), a bounded number per pass. A
// method only says which score it reads and how one sample's map comes from its altered copies;
// choosing the layer, reading it as a map, the loop over samples, the ReLU and the upsampling are shared.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <string>

#include "glassbox/explain/gradients.h"
#include "glassbox/explain/layer-map.h"
#include "glassbox/explain/methods.h"
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

class PerturbationCam : public AttributionMethod {
 public:
  bool uses_layer() const override { return true; }
  bool reads_map() const override { return true; }
  at::Tensor attribute(const AttributionRequest& request) const override;

 protected:
  // The score the method reads, of the logits with the layer intact and altered.
  virtual Score score(const AttributeOptions& options) const = 0;
  // One sample's map [h, w] before the ReLU, from its map [1, C, h, w] (`p` runs altered copies of it)
  // and the target's score with the layer intact.
  virtual at::Tensor sample_map(const LayerPerturbation& p, const at::Tensor& map, const at::Tensor& intact) const = 0;
};

}  // namespace glassbox::explain
