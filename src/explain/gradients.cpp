#include "glassbox/explain/gradients.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/grad_mode.h>

#include "glassbox/util/error.h"
#include "glassbox/util/enum-names.h"

namespace glassbox::explain {

namespace {
const char* const kScoreNames[] = {"logit", "log_softmax", "probability"};  // Score's order
}  // namespace

std::vector<std::string> score_names() { return enum_names(kScoreNames); }
Score parse_score(const std::string& name) { return enum_from_name<Score>(kScoreNames, name, "score"); }

at::Tensor target_scores(const at::Tensor& logits, const at::Tensor& targets, Score score) {
  const at::Tensor index = targets.view({-1, 1});
  switch (score) {
    case Score::logit: return logits.gather(1, index).squeeze(1);
    case Score::log_softmax: return at::log_softmax(logits, 1).gather(1, index).squeeze(1);
    case Score::probability: return at::softmax(logits, 1).gather(1, index).squeeze(1);
  }
  return {};
}

void check_targets(const at::Tensor& targets, int64_t batch, int64_t classes) {
  GLASSBOX_CHECK(targets.defined() && targets.dim() == 1 && targets.size(0) == batch, "targets: expected ", batch,
                 " class indices (one per sample), got ", targets.defined() ? targets.sizes() : at::IntArrayRef{});
  GLASSBOX_CHECK(targets.scalar_type() == at::kLong, "targets: expected int64 class indices, got ",
                 targets.scalar_type());
  if (batch == 0) return;
  const int64_t lo = targets.min().item<int64_t>(), hi = targets.max().item<int64_t>();
  GLASSBOX_CHECK(lo >= 0 && hi < classes, "targets: class ", lo < 0 ? lo : hi, " is out of range, the model has ",
                 classes, " classes (0..", classes - 1, ")");
}

at::Tensor input_gradients_unchecked(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets,
                                     Score score, at::Tensor* scores_out) {
  torch::autograd::AutoGradMode enable(true);
  const at::Tensor input = x.detach().requires_grad_(true);
  const at::Tensor logits = model.forward(input);
  const at::Tensor scores = target_scores(logits, targets, score);
  // Summing is exact here: sample i's score depends only on input i (no batch-coupled layers in
  // eval mode), so d(sum)/d(input_i) = d(score_i)/d(input_i).
  const at::Tensor grad = torch::autograd::grad({scores.sum()}, {input}, /*grad_outputs=*/{}, /*retain_graph=*/false,
                                                /*create_graph=*/false, /*allow_unused=*/true)[0];
  if (scores_out) *scores_out = scores.detach();
  return grad.defined() ? grad : at::zeros_like(x);
}

void check_batch(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets) {
  GLASSBOX_CHECK(x.defined() && x.dim() == 4, "input: expected a batch [B, C, H, W], got ",
                 x.defined() ? x.sizes() : at::IntArrayRef{});
  const models::InputShape s = model.input_shape();
  GLASSBOX_CHECK(x.size(1) == s.channels && x.size(2) == s.height && x.size(3) == s.width, "input: ", x.sizes(),
                 ", but the model ", model.name(), " takes [B, ", s.channels, ", ", s.height, ", ", s.width, "]");
  check_targets(targets, x.size(0), model.num_classes());
}

GradientResult input_gradients(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets, Score score) {
  check_batch(model, x, targets);
  models::EvalModeGuard eval(model);
  torch::autograd::AutoGradMode enable(true);
  GradientResult r;
  const at::Tensor input = x.detach().requires_grad_(true);
  const at::Tensor logits = model.forward(input);
  GLASSBOX_CHECK(logits.dim() == 2 && logits.size(0) == x.size(0), model.name(), ": output ", logits.sizes(),
                 ", expected [", x.size(0), ", classes]");
  GLASSBOX_CHECK(at::isfinite(logits).all().item<bool>(), model.name(), ": non-finite logits (NaN or Inf) for ",
                 "this input");
  const at::Tensor scores = target_scores(logits, targets, score);
  const at::Tensor grad = torch::autograd::grad({scores.sum()}, {input}, {}, false, false, true)[0];
  r.gradients = grad.defined() ? grad : at::zeros_like(x);
  r.scores = scores.detach();
  r.logits = logits.detach();
  return r;
}

}  // namespace glassbox::explain
