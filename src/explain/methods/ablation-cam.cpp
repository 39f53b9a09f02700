// Ablation-CAM (Desai and Ramaswamy 2020): each channel's weight is how much the target's score drops
// when that channel of the layer is set to zero and the rest of the network runs on,
//   w_k = (y - y_k) / y,   cam = relu(sum_k w_k A_k),
// y the score (the logit, as the paper's y^c; AttributeOptions::score) with the layer intact. Gradient-free:
// one forward per channel and sample, internal_batch_size of them per pass. Zero is the paper's ablation;
// pytorch-grad-cam's AblationCAM uses min(A) - 1e7 instead where the layer can be negative, which makes the
// result depend on how far below the rest the network saturates, so glassbox keeps the paper's.
#include <ATen/ATen.h>

#include "glassbox/explain/layer-attribution.h"
#include "glassbox/explain/methods.h"
#include "layer-perturbation.h"

namespace glassbox::explain {
namespace {

class AblationCamMethod final : public AttributionMethod {
 public:
  const char* name() const override { return "ablationcam"; }
  const char* help() const override {
    return "Ablation-CAM: channels weighted by the score lost without them (Desai and Ramaswamy; no gradients)";
  }
  std::vector<std::string> options() const override {
    return {"score", "layer.layer", "layer.relu", "layer.upsample", "layer.internal_batch_size", "layer.layout",
            "layer.prefix_tokens"};
  }
  bool uses_layer() const override { return true; }
  bool reads_map() const override { return true; }
  at::Tensor attribute(const AttributionRequest& r) const override {
    const LayerOptions& o = r.options.layer();
    const std::string layer = resolved_layer(r.model, o);
    const LayerActivation a = layer_activation(r.model, r.x, r.targets, layer, r.options.score(), false);
    const MapReading m = read_as_map(a.activation.sizes(), o, r.x.size(2), r.x.size(3), layer);
    const at::Tensor A = to_map(a.activation, m);
    const at::Tensor intact = target_scores(a.logits, r.targets, r.options.score());
    const int64_t B = A.size(0), K = A.size(1);
    at::Tensor cams = at::empty({B, A.size(2), A.size(3)}, A.options());
    for (int64_t b = 0; b < B; ++b) {
      const at::Tensor map = A.narrow(0, b, 1);
      const LayerPerturbation p{r.model, r.x.narrow(0, b, 1), layer, m, a.activation.narrow(0, b, 1),
                                r.targets[b].item<int64_t>(), r.options.score(), o.internal_batch_size()};
      const at::Tensor ablated = perturbed_scores(p, K, [&](int64_t first, int64_t n) {
        at::Tensor maps = map.repeat({n, 1, 1, 1});
        for (int64_t i = 0; i < n; ++i) maps[i][first + i].zero_();
        return maps;
      });
      const at::Tensor y = intact[b];
      const at::Tensor weights = ((y - ablated) / y).view({K, 1, 1});
      cams[b] = (weights * A[b]).sum(0);
    }
    return finish_cam(cams, r.x, o);
  }
};

}  // namespace

const AttributionMethod& ablation_cam_method() {
  static const AblationCamMethod method;
  return method;
}

}  // namespace glassbox::explain
