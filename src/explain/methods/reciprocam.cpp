// ReciproCAM (Byun and Lee 2022) and, on a vision transformer's tokens, ViT-ReciproCAM (Byun and Lee 2023),
// as OpenVINO XAI computes them with its default Gaussian masks: for each position (i, j) of the layer's
// map, the map multiplied by a 3 x 3 Gaussian (1/4 at (i, j), 1/8 beside it, 1/16 at the corners, cut at
// the border) centred there runs through the rest of the network; the target's softmax probability is
// the map's value at (i, j). Tokens outside the grid (a class token) are left as they were, as
// ViT-ReciproCAM keeps the class token. Gradient-free, h * w forwards per sample: a 7 x 7 layer takes 49,
// where Score-CAM takes one per channel (2,048 on ResNet-50). OpenVINO XAI then scales each map to
// [0, 255]; glassbox keeps the probabilities, and the figures scale them.
#include <ATen/ATen.h>

#include "layer-perturbation.h"

namespace glassbox::explain {
namespace {

// Masks for positions first .. first + n - 1 (row by row) of an h x w map, [n, 1, h, w].
at::Tensor gaussian_masks(int64_t first, int64_t n, int64_t h, int64_t w, const at::TensorOptions& options) {
  at::Tensor masks = at::zeros({n, 1, h, w}, at::kFloat);
  auto m = masks.accessor<float, 4>();
  for (int64_t k = 0; k < n; ++k) {
    const int64_t i = (first + k) / w, j = (first + k) % w;
    for (int64_t di = -1; di <= 1; ++di)
      for (int64_t dj = -1; dj <= 1; ++dj)
        if (i + di >= 0 && i + di < h && j + dj >= 0 && j + dj < w)
          m[k][0][i + di][j + dj] = 0.25f / float((1 << std::abs(di)) * (1 << std::abs(dj)));
  }
  return masks.to(options);
}

class ReciproCamMethod final : public PerturbationCam {
 public:
  const char* name() const override { return "reciprocam"; }
  const char* help() const override {
    return "ReciproCAM (ViT-ReciproCAM on tokens): the probability with the layer masked around each position (OpenVINO XAI's)";
  }
  std::vector<std::string> options() const override {
    return {"layer.layer", "layer.relu", "layer.upsample", "layer.internal_batch_size", "layer.layout", "layer.prefix_tokens"};
  }

 protected:
  Score score(const AttributeOptions&) const override { return Score::probability; }
  at::Tensor sample_map(const LayerPerturbation& p, const at::Tensor& map, const at::Tensor&) const override {
    const int64_t h = map.size(2), w = map.size(3);
    return perturbed_scores(p, h * w, [&](int64_t first, int64_t n) {
             return map * gaussian_masks(first, n, h, w, map.options());
           }).view({h, w});
  }
};

}  // namespace

const AttributionMethod& reciprocam_method() {
  static const ReciproCamMethod method;
  return method;
}

}  // namespace glassbox::explain
