// Attention rollout (Abnar and Zuidema 2020) and its gradient-weighted form (Chefer, Gur and Wolf 2021,
// "Generic Attention-model Explainability"), on a vision transformer's attention modules
// (Classifier::forward_with_attention: the weights per head, even where the module was asked not to
// return them). Rollout: each layer's weights averaged over heads, the identity added for the residual
// connection, rows renormalised to sum to 1, multiplied through the layers, R = A_L ... A_1; blind to the
// target. Gradient-weighted: each layer's weights times the target score's gradient with respect to
// them, the positive part averaged over heads, accumulated as R <- R + A_l R from R = I. The map is the
// class token's row of R over the patch tokens (the first token's when the model has no prefix, the mean
// row then), read as a grid like any token layer (layer-map.h: LayerOptions::prefix_tokens states the
// prefix), then upsampled as CAMs are.
#include <ATen/ATen.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/grad_mode.h>

#include "glassbox/explain/layer-attribution.h"
#include "glassbox/explain/layer-map.h"
#include "glassbox/explain/methods.h"
#include "glassbox/util/error.h"

namespace glassbox::explain {
namespace {

// The rollout [B, T, T] of the layers' weights (each [B, heads, T, T]) and, when given, their gradients.
at::Tensor rollout(const std::vector<at::Tensor>& weights, const std::vector<at::Tensor>& gradients) {
  const int64_t B = weights[0].size(0), T = weights[0].size(2);
  const at::Tensor identity = at::eye(T, weights[0].options()).expand({B, T, T});
  at::Tensor r = identity.clone();
  for (size_t l = 0; l < weights.size(); ++l) {
    GLASSBOX_CHECK(weights[l].dim() == 4 && weights[l].size(2) == T && weights[l].size(3) == T, "attention weights ",
                   weights[l].sizes(), " of layer ", l, ": expected [B, heads, ", T, ", ", T, "] (self-attention)");
    if (gradients.empty()) {
      at::Tensor a = weights[l].mean(1) + identity;
      a = a / a.sum(-1, true);
      r = at::bmm(a, r);
    } else {
      const at::Tensor a = at::relu(gradients[l] * weights[l]).mean(1);
      r = r + at::bmm(a, r);
    }
  }
  return r;
}

class AttentionRolloutMethod final : public AttributionMethod {
 public:
  explicit AttentionRolloutMethod(bool gradient_weighted) : gradient_weighted_(gradient_weighted) {}
  const char* name() const override { return gradient_weighted_ ? "grad_rollout" : "rollout"; }
  const char* help() const override {
    return gradient_weighted_ ? "Gradient-weighted attention rollout of a transformer (Chefer et al. 2021)"
                              : "Attention rollout of a transformer: heads averaged, residual added (Abnar and Zuidema 2020)";
  }
  std::vector<std::string> options() const override {
    std::vector<std::string> o{"layer.relu", "layer.upsample", "layer.prefix_tokens"};
    if (gradient_weighted_) o.insert(o.begin(), "score");
    return o;
  }
  bool reads_map() const override { return true; }
  bool uses_attention() const override { return true; }
  at::Tensor attribute(const AttributionRequest& r) const override {
    models::EvalModeGuard eval(r.model);
    torch::autograd::AutoGradMode grad_mode(gradient_weighted_);
    // The input requires grad, so that the weights do even in a module whose parameters do not.
    const models::AttentionForward f =
        r.model.forward_with_attention(gradient_weighted_ ? r.x.detach().requires_grad_(true) : r.x);
    std::vector<at::Tensor> gradients;
    if (gradient_weighted_) {
      const at::Tensor scores = target_scores(f.logits, r.targets, r.options.score());
      // Summing is exact: each sample's score depends on its own attention only (eval mode).
      gradients = torch::autograd::grad({scores.sum()}, f.attention, {}, false, false, true);
      for (size_t l = 0; l < gradients.size(); ++l)
        if (!gradients[l].defined()) gradients[l] = at::zeros_like(f.attention[l]);
    }
    // Per head, [B, heads, T, T]: traced code computes [B * heads, T, T], batch major.
    const auto per_head = [&](const at::Tensor& t) {
      return (t.dim() == 3 ? t.view({r.x.size(0), -1, t.size(1), t.size(2)}) : t).detach();
    };
    std::vector<at::Tensor> weights;
    for (const at::Tensor& w : f.attention) weights.push_back(per_head(w));
    for (at::Tensor& g : gradients) g = per_head(g);
    const at::Tensor R = rollout(weights, gradients);
    const int64_t B = R.size(0), T = R.size(1);
    LayerOptions o = r.options.layer();
    o.layout(LayerLayout::tokens);
    const MapReading m = read_as_map({B, T, 1}, o, r.x.size(2), r.x.size(3), f.layers.back());
    const at::Tensor row = m.prefix_tokens > 0 ? R.select(1, 0) : R.mean(1);  // [B, T]
    const at::Tensor map = row.narrow(1, m.prefix_tokens, m.height * m.width).reshape({B, m.height, m.width});
    return finish_cam(map, r.x, r.options.layer());
  }

 private:
  bool gradient_weighted_;
};

}  // namespace

const AttributionMethod& attention_rollout_method() {
  static const AttentionRolloutMethod method(false);
  return method;
}

const AttributionMethod& gradient_rollout_method() {
  static const AttentionRolloutMethod method(true);
  return method;
}

}  // namespace glassbox::explain
