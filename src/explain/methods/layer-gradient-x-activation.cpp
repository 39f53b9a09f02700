// Layer Gradient x Activation (Captum's LayerGradientXActivation): the layer's activation times the
// target score's gradient there, element by element; shaped like the activation.
#include <ATen/ATen.h>

#include "glassbox/explain/layer-attribution.h"
#include "glassbox/explain/methods.h"

namespace glassbox::explain {
namespace {

class LayerGradientXActivationMethod final : public AttributionMethod {
 public:
  const char* name() const override { return "layer_gxa"; }
  const char* help() const override {
    return "Layer Gradient x Activation: A * dS/dA, shaped like the layer (Captum's LayerGradientXActivation)";
  }
  std::vector<std::string> options() const override { return {"score", "layer.layer"}; }
  bool uses_layer() const override { return true; }
  at::Tensor attribute(const AttributionRequest& r) const override {
    const std::string layer = resolved_layer(r.model, r.options.layer());
    const LayerActivation a = layer_activation(r.model, r.x, r.targets, layer, r.options.score(), true);
    return a.activation * a.gradients;
  }
};

}  // namespace

const AttributionMethod& layer_gradient_x_activation_method() {
  static const LayerGradientXActivationMethod method;
  return method;
}

}  // namespace glassbox::explain
