// Score-CAM (Wang et al. 2020), as pytorch-grad-cam computes it: each channel's activation map, upsampled
// to the input (bilinear with align_corners=True, as its torch.nn.UpsamplingBilinear2d does) and scaled to
// [0, 1] by (A - min) / (max - min + 1e-8), masks the input; the target's score on each masked input, through a
// softmax over channels, weighs the channels: cam = relu(sum_k softmax_k(s)_k A_k). Gradient-free.
// The masked inputs of all samples and channels go through the model internal_batch_size at a time, so
// memory stays bounded by it; a channel whose map is flat masks the input to zeros, whose score is
// computed once and shared (the result is the same; post-ReLU layers have many such channels).
#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include "glassbox/explain/layer-attribution.h"
#include "glassbox/explain/layer-map.h"
#include "glassbox/explain/methods.h"
#include "glassbox/util/error.h"

namespace glassbox::explain {
namespace {

// pytorch-grad-cam's masks. align_corners=False instead (what the final upsampling of every CAM uses, as
// cv2.resize does) shifts each mask by up to half a layer cell and changes the weights.
constexpr bool kAlignCorners = true;

class ScoreCamMethod final : public AttributionMethod {
 public:
  const char* name() const override { return "scorecam"; }
  const char* help() const override {
    return "Score-CAM: channels weighted by the score of the input they mask (pytorch-grad-cam's ScoreCAM)";
  }
  std::vector<std::string> options() const override {
    return {"score", "layer.layer", "layer.relu", "layer.upsample", "layer.internal_batch_size", "layer.layout",
            "layer.prefix_tokens"};
  }
  bool uses_layer() const override { return true; }
  bool reads_map() const override { return true; }
  at::Tensor attribute(const AttributionRequest& r) const override {
    const LayerOptions& o = r.options.layer();
    GLASSBOX_CHECK(o.internal_batch_size() >= 1, "internal_batch_size ", o.internal_batch_size(), ": expected at least 1");
    const std::string layer = resolved_layer(r.model, o);
    const LayerActivation a = layer_activation(r.model, r.x, r.targets, layer, r.options.score(), false);
    const at::Tensor A = to_map(a.activation, read_as_map(a.activation.sizes(), o, r.x.size(2), r.x.size(3), layer)).contiguous();
    models::EvalModeGuard eval(r.model);
    torch::autograd::AutoGradMode no_grad(false);
    const int64_t B = A.size(0), K = A.size(1), H = r.x.size(2), W = r.x.size(3);
    // Each map's range, from its upsampled version (as the masks are made).
    at::Tensor lo = at::empty({B, K}, A.options()), hi = at::empty({B, K}, A.options());
    for (int64_t b = 0; b < B; ++b) {
      const at::Tensor up = at::upsample_bilinear2d(A.narrow(0, b, 1), {H, W}, kAlignCorners)[0].flatten(1);  // [K, H*W]
      lo[b] = std::get<0>(up.min(1));
      hi[b] = std::get<0>(up.max(1));
    }
    const at::Tensor flat = (hi <= lo).to(at::kCPU).contiguous();
    const at::Tensor targets_cpu = r.targets.to(at::kCPU).contiguous();
    const int64_t* target_of = targets_cpu.data_ptr<int64_t>();
    // Masked inputs, (sample, channel) pairs in chunks; flat maps share one all-zero input's score.
    const at::Tensor zero_logits = r.model.forward(at::zeros_like(r.x.narrow(0, 0, 1)));
    const at::Tensor zero_scores = target_scores(zero_logits.expand({B, -1}), r.targets, r.options.score());
    at::Tensor scores = zero_scores.view({B, 1}).repeat({1, K}).contiguous();
    std::vector<std::pair<int64_t, int64_t>> pairs;
    const bool* is_flat = flat.data_ptr<bool>();
    for (int64_t b = 0; b < B; ++b)
      for (int64_t k = 0; k < K; ++k)
        if (!is_flat[b * K + k]) pairs.emplace_back(b, k);
    const int64_t chunk = o.internal_batch_size();
    for (size_t p0 = 0; p0 < pairs.size(); p0 += static_cast<size_t>(chunk)) {
      const size_t p1 = std::min(pairs.size(), p0 + static_cast<size_t>(chunk));
      std::vector<at::Tensor> inputs, maps;
      std::vector<int64_t> targets;
      for (size_t p = p0; p < p1; ++p) {
        const auto [b, k] = pairs[p];
        maps.push_back(A[b][k].unsqueeze(0));
        inputs.push_back(r.x[b]);
        targets.push_back(target_of[b]);
      }
      const at::Tensor up = at::upsample_bilinear2d(at::stack(maps), {H, W}, kAlignCorners);  // [n, 1, H, W]
      std::vector<at::Tensor> lows, highs;
      for (size_t p = p0; p < p1; ++p) {
        lows.push_back(lo[pairs[p].first][pairs[p].second]);
        highs.push_back(hi[pairs[p].first][pairs[p].second]);
      }
      const at::Tensor l = at::stack(lows).view({-1, 1, 1, 1}), h = at::stack(highs).view({-1, 1, 1, 1});
      const at::Tensor masked = at::stack(inputs) * ((up - l) / (h - l + 1e-8));
      const at::Tensor s = target_scores(r.model.forward(masked), at::tensor(targets, at::kLong).to(r.x.device()),
                                         r.options.score());
      std::vector<int64_t> flat_index;
      for (size_t p = p0; p < p1; ++p) flat_index.push_back(pairs[p].first * K + pairs[p].second);
      scores.view({-1}).index_put_({at::tensor(flat_index, at::kLong).to(s.device())}, s.to(scores.scalar_type()));
    }
    const at::Tensor weights = at::softmax(scores, 1).view({B, K, 1, 1});
    return finish_cam((weights * A).sum(1), r.x, o);
  }
};

}  // namespace

const AttributionMethod& scorecam_method() {
  static const ScoreCamMethod method;
  return method;
}

}  // namespace glassbox::explain
