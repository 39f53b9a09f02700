// Occlusion (Captum's Occlusion): the drop of the target score when a sliding window is replaced by a
// baseline, averaged over the windows covering each pixel. Gradient-free: a cross-check of the others.
#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include "glassbox/explain/methods.h"
#include "glassbox/util/error.h"

namespace glassbox::explain {

at::Tensor occlusion(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets, const OcclusionOptions& o) {
  check_batch(model, x, targets);
  GLASSBOX_CHECK(o.window_h() >= 1 && o.window_w() >= 1 && o.window_h() <= x.size(2) && o.window_w() <= x.size(3),
                 "occlusion window ", o.window_h(), "x", o.window_w(), ": expected 1.. the image size ", x.size(2), "x",
                 x.size(3));
  GLASSBOX_CHECK(o.stride_h() >= 1 && o.stride_w() >= 1 && o.stride_h() <= x.size(2) && o.stride_w() <= x.size(3),
                 "occlusion strides ", o.stride_h(), "x", o.stride_w(), ": expected 1.. the image size ", x.size(2), "x",
                 x.size(3));
  models::EvalModeGuard eval(model);
  torch::autograd::AutoGradMode no_grad(false);
  const int64_t B = x.size(0), H = x.size(2), W = x.size(3);
  const at::Tensor base_scores = target_scores(model.forward(x), targets, o.score());
  at::Tensor total = at::zeros({B, 1, H, W}, x.options());
  at::Tensor count = at::zeros({1, 1, H, W}, x.options());
  struct Window { int64_t y, x, h, w; };
  // Captum's count: ceil((H - h) / s) + 1 starts per axis, at multiples of the stride; the last window
  // is clipped at the border.
  auto starts = [](int64_t size, int64_t window, int64_t stride) {
    std::vector<int64_t> out;
    const int64_t count = (size - window + stride - 1) / stride + 1;  // size >= window >= 1, stride >= 1
    for (int64_t i = 0; i < count; ++i) out.push_back(i * stride);
    return out;
  };
  std::vector<Window> windows;
  for (int64_t y : starts(H, o.window_h(), o.stride_h()))
    for (int64_t xx : starts(W, o.window_w(), o.stride_w()))
      windows.push_back({y, xx, std::min(o.window_h(), H - y), std::min(o.window_w(), W - xx)});
  const int64_t per_eval = std::max<int64_t>(1, o.perturbations_per_eval());
  for (size_t w0 = 0; w0 < windows.size(); w0 += static_cast<size_t>(per_eval)) {
    const size_t w1 = std::min(windows.size(), w0 + static_cast<size_t>(per_eval));
    const int64_t k = static_cast<int64_t>(w1 - w0);
    at::Tensor batch = x.unsqueeze(0).repeat({k, 1, 1, 1, 1});  // [k, B, C, H, W]
    for (int64_t i = 0; i < k; ++i) {
      const Window& win = windows[w0 + static_cast<size_t>(i)];
      batch[i].narrow(2, win.y, win.h).narrow(3, win.x, win.w).fill_(o.baseline());
    }
    const at::Tensor scores =
        target_scores(model.forward(batch.view({k * B, x.size(1), H, W})), targets.repeat({k}), o.score()).view({k, B});
    const at::Tensor drop = base_scores.unsqueeze(0) - scores;  // [k, B]
    for (int64_t i = 0; i < k; ++i) {
      const Window& win = windows[w0 + static_cast<size_t>(i)];
      total.narrow(2, win.y, win.h).narrow(3, win.x, win.w).add_(drop[i].view({B, 1, 1, 1}));
      count.narrow(2, win.y, win.h).narrow(3, win.x, win.w).add_(1.0);
    }
  }
  return (total / count).expand_as(x).contiguous();
}

namespace {

class OcclusionMethod final : public AttributionMethod {
 public:
  const char* name() const override { return "occlusion"; }
  const char* help() const override { return "Occlusion: the score's drop under a sliding window (Captum's Occlusion)"; }
  std::vector<std::string> options() const override {
    return {"score", "occlusion.window_h", "occlusion.window_w", "occlusion.stride_h", "occlusion.stride_w",
            "occlusion.baseline", "occlusion.perturbations_per_eval"};
  }
  at::Tensor attribute(const AttributionRequest& r) const override {
    OcclusionOptions o = r.options.occlusion();
    return occlusion(r.model, r.x, r.targets, o.score(r.options.score()));
  }
};

}  // namespace

const AttributionMethod& occlusion_method() {
  static const OcclusionMethod method;
  return method;
}

}  // namespace glassbox::explain
