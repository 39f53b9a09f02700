#include "layer-perturbation.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include "glassbox/explain/layer-attribution.h"
#include "glassbox/util/error.h"

namespace glassbox::explain {

at::Tensor perturbed_scores(const LayerPerturbation& p, int64_t count, const MapMaker& make) {
  GLASSBOX_CHECK_PARAM(p.rows_per_pass >= 1, "internal_batch_size", p.rows_per_pass, "expected at least 1");
  models::EvalModeGuard eval(p.model);
  torch::autograd::AutoGradMode no_grad(false);
  at::Tensor scores = at::empty({count}, p.x.options());
  for (int64_t first = 0; first < count; first += p.rows_per_pass) {
    const int64_t n = std::min(p.rows_per_pass, count - first);
    const at::Tensor value = from_map(make(first, n), p.reading, p.output).contiguous();
    const at::Tensor logits = p.model.forward_replacing_layer(p.x.expand({n, -1, -1, -1}), p.layer, value);
    const at::Tensor targets = at::full({n}, p.target, at::TensorOptions().dtype(at::kLong).device(logits.device()));
    scores.narrow(0, first, n).copy_(target_scores(logits, targets, p.score));
  }
  return scores;
}

at::Tensor PerturbationCam::attribute(const AttributionRequest& r) const {
  const LayerOptions& o = r.options.layer();
  const Score s = score(r.options);
  const std::string layer = resolved_layer(r.model, o);
  const LayerActivation a = layer_activation(r.model, r.x, r.targets, layer, s, false);
  const MapReading m = read_as_map(a.activation.sizes(), o, r.x.size(2), r.x.size(3), layer);
  const at::Tensor A = to_map(a.activation, m);
  const at::Tensor intact = target_scores(a.logits, r.targets, s);
  at::Tensor cams = at::empty({A.size(0), A.size(2), A.size(3)}, A.options());
  for (int64_t b = 0; b < A.size(0); ++b) {
    const LayerPerturbation p{r.model, r.x.narrow(0, b, 1), layer, m, a.activation.narrow(0, b, 1),
                              r.targets[b].item<int64_t>(), s, o.internal_batch_size()};
    cams[b] = sample_map(p, A.narrow(0, b, 1), intact[b]);
  }
  return finish_cam(cams, r.x, o);
}

}  // namespace glassbox::explain
