// The attribution methods by name, one file each under src/explain/methods, as llama.cpp keeps one
// sampler per block behind one interface: adding a method is its file plus one line in
// src/explain/methods/registry.cpp. The CLI's --method list, its help and the callbacks' method list all
// come from here.
#pragma once

#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

#include "glassbox/explain/attribution.h"
#include "glassbox/models/classifier.h"

namespace glassbox::distributed {
class Communicator;
}

namespace glassbox::explain {

// What a method is asked.
struct AttributionRequest {
  models::Classifier& model;
  const at::Tensor& x;        // [B, C, H, W], the model's input space
  const at::Tensor& targets;  // [B] int64, one class per sample
  const AttributeOptions& options;
};

class AttributionMethod {
 public:
  virtual ~AttributionMethod() = default;
  // The name --method takes: "saliency", "gradcam", ...
  virtual const char* name() const = 0;
  // One line: what it computes, with whose semantics.
  virtual const char* help() const = 0;
  // The AttributeOptions fields it reads (for help): "score", "integrated_gradients.n_steps", ...
  virtual std::vector<std::string> options() const = 0;
  // Layer methods read AttributeOptions::layer; input methods do not.
  virtual bool uses_layer() const { return false; }
  // Whether it reads its layer's output as a map [B, C, h, w] (CAMs: layer-map.h), rather than
  // attributing to the layer's output as it is (layer_ig, layer_gxa).
  virtual bool reads_map() const { return false; }
  // Whether it reads the model's attention modules (Classifier::forward_with_attention): attention
  // rollout. A model without any refuses it.
  virtual bool uses_attention() const { return false; }
  // Whether a sample's attributions depend on the other samples of its batch (feature permutation
  // exchanges features between them): it needs a batch of 2 or more, and a server never batches one
  // request with another's for it.
  virtual bool reads_batch() const { return false; }
  // Attributions: shaped like x for input methods; [B, 1, H, W] (or at the layer's resolution) for
  // CAMs; shaped like the layer's activation for Captum's layer methods.
  virtual at::Tensor attribute(const AttributionRequest& request) const = 0;
};

// Every registered method, in registration order.
const std::vector<const AttributionMethod*>& attribution_methods();
// The method called `name`; throws glassbox::Error ("method 'x': expected one of ...") otherwise.
const AttributionMethod& find_attribution_method(const std::string& name);
// "saliency, ixg, ig, ..." for messages and help.
std::string attribution_method_names();

// The request's attributions computed across the ranks of `world` (every rank calls it with the same
// request): each explains a block of the batch, and every rank gets all rows, in order, on the CPU.
at::Tensor attribute_across_ranks(const AttributionMethod& method, const AttributionRequest& request,
                                  distributed::Communicator& world);

}  // namespace glassbox::explain
