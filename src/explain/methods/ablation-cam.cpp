// Ablation-CAM (Desai and Ramaswamy 2020): each channel's weight is how much the target's score drops
// when that channel of the layer is set to zero and the rest of the network runs on,
//   w_k = (y - y_k) / y,   cam = relu(sum_k w_k A_k),
// y the score (the logit, as the paper's y^c; AttributeOptions::score) with the layer intact. Gradient-free:
// one forward per channel and sample, internal_batch_size of them per pass. Zero is the paper's ablation;
// pytorch-grad-cam's AblationCAM uses min(A) - 1e7 instead where the layer can be negative, which makes the
// result depend on how far below the rest the network saturates, so glassbox keeps the paper's.
#include <ATen/ATen.h>

#include "layer-perturbation.h"

namespace glassbox::explain {
namespace {

class AblationCamMethod final : public PerturbationCam {
 public:
  const char* name() const override { return "ablationcam"; }
  const char* help() const override {
    return "Ablation-CAM: channels weighted by the score lost without them (Desai and Ramaswamy; no gradients)";
  }
  std::vector<std::string> options() const override {
    return {"score", "layer.layer", "layer.relu", "layer.upsample", "layer.internal_batch_size", "layer.layout",
            "layer.prefix_tokens"};
  }

 protected:
  Score score(const AttributeOptions& options) const override { return options.score(); }
  at::Tensor sample_map(const LayerPerturbation& p, const at::Tensor& map, const at::Tensor& y) const override {
    const int64_t K = map.size(1);
    const at::Tensor ablated = perturbed_scores(p, K, [&](int64_t first, int64_t n) {
      at::Tensor maps = map.repeat({n, 1, 1, 1});
      for (int64_t i = 0; i < n; ++i) maps[i][first + i].zero_();
      return maps;
    });
    return (((y - ablated) / y).view({K, 1, 1}) * map[0]).sum(0);
  }
};

}  // namespace

const AttributionMethod& ablation_cam_method() {
  static const AblationCamMethod method;
  return method;
}

}  // namespace glassbox::explain
