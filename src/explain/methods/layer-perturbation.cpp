#include "layer-perturbation.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

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

}  // namespace glassbox::explain
