#include "glassbox/explain/morph.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <cmath>

#include "glassbox/util/error.h"
#include "glassbox/util/enum-names.h"

namespace glassbox::explain {

namespace {
const char* const kNormNames[] = {"l2", "linf"};  // MorphNorm's order
const char* const kEngineNames[] = {"gradient", "fgsm", "pgd"};  // MorphEngine's order
}  // namespace

std::vector<std::string> morph_engine_names() { return enum_names(kEngineNames); }
MorphEngine parse_morph_engine(const std::string& name) { return enum_from_name<MorphEngine>(kEngineNames, name, "engine"); }

std::vector<std::string> morph_norm_names() { return enum_names(kNormNames); }
MorphNorm parse_morph_norm(const std::string& name) { return enum_from_name<MorphNorm>(kNormNames, name, "norm"); }

at::Tensor project(const at::Tensor& x, const at::Tensor& gradients, double k, const data::Normalization& normalization,
                   double pixel_min, double pixel_max) {
  // The gradient is with respect to the model's input; in unnormalised pixels a step dx' = std * dx.
  const at::Tensor pixels = normalization.invert(x);
  at::Tensor step = gradients;
  if (normalization.enabled()) step = normalization.invert(gradients) - normalization.invert(at::zeros_like(gradients));
  return normalization.apply((pixels + k * step).clamp(pixel_min, pixel_max));
}

MorphTrajectory morph(models::Classifier& model, const models::InputSpec& spec, const at::Tensor& x, const MorphOptions& o) {
  GLASSBOX_CHECK(x.dim() == 4 && x.size(0) == 1, "morph: expected one sample [1, C, H, W], got ", x.sizes());
  GLASSBOX_CHECK(o.target() >= 0 && o.target() < model.num_classes(), "target ", o.target(),
                 ": out of range, the model has ", model.num_classes(), " classes (0..", model.num_classes() - 1, ")");
  GLASSBOX_CHECK(o.steps() >= 1, "steps ", o.steps(), ": expected at least 1");
  GLASSBOX_CHECK(o.step_size() > 0 && std::isfinite(o.step_size()), "step_size ", o.step_size(), ": expected > 0");
  GLASSBOX_CHECK(o.eps() >= 0 && std::isfinite(o.eps()), "eps ", o.eps(), ": expected >= 0");
  const bool attack = o.engine() != MorphEngine::gradient;
  GLASSBOX_CHECK(!attack || o.eps() > 0, "eps ", o.eps(), ": the ", enum_name(kEngineNames, o.engine()),
                 " engine needs a budget > 0");
  GLASSBOX_CHECK(o.pixel_min() < o.pixel_max(), "pixel range ", o.pixel_min(), "..", o.pixel_max(), " is empty");
  const data::Normalization& norm = spec.normalization();
  const at::Tensor targets = at::full({1}, o.target(), x.options().dtype(at::kLong));
  const at::Tensor start = norm.invert(x.detach());  // work in unnormalised pixels
  at::Tensor pixels = start.clone();
  // The attacks' objective is the cross-entropy (torchattacks', Captum's): up the target's log-probability,
  // or (untargeted) down the left class's; the gradient engine follows the chosen score.
  const Score score = attack ? Score::log_softmax : o.score();
  const double sign = o.targeted() ? 1.0 : -1.0;
  int64_t steps = o.engine() == MorphEngine::fgsm ? 1 : o.steps();
  const double step_size = o.engine() == MorphEngine::fgsm ? o.eps() : o.step_size();
  at::Tensor random_start;
  if (o.engine() == MorphEngine::pgd && o.random_start()) {
    at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(o.seed());
    const auto cpu = start.options().device(at::kCPU);
    at::Tensor delta;
    if (o.norm() == MorphNorm::linf) {
      delta = at::rand(start.sizes(), gen, cpu).mul_(2).sub_(1).mul_(o.eps());
    } else {  // a uniform radius in a random direction (torchattacks' PGDL2)
      delta = at::randn(start.sizes(), gen, cpu);
      delta = delta / delta.norm() * at::rand({1}, gen, cpu).item<double>() * o.eps();
    }
    // The trajectory starts at the input; the random start is its first move (and frame), then the steps.
    random_start = (start + delta.to(start.device())).clamp(o.pixel_min(), o.pixel_max());
    ++steps;
  }
  const double numel = double(start.numel());

  MorphTrajectory t;
  auto record = [&](const at::Tensor& logits) {
    const at::Tensor p = at::softmax(logits.detach().to(at::kDouble), 1)[0].to(at::kCPU);
    t.frames.push_back(pixels[0].detach().to(at::kCPU).clone());
    t.probabilities.push_back(p.to(at::kFloat));
    t.target_probability.push_back(p[o.target()].item<double>());
    t.predicted.push_back(p.argmax().item<int64_t>());
  };
  models::EvalModeGuard eval(model);
  for (int64_t step = 0;; ++step) {
    at::Tensor logits;
    at::Tensor grad;
    {
      torch::autograd::AutoGradMode enable(true);
      const at::Tensor leaf = pixels.detach().requires_grad_(true);
      logits = model.forward(norm.apply(leaf));
      GLASSBOX_CHECK(at::isfinite(logits).all().item<bool>(), model.name(), ": non-finite logits while morphing");
      const at::Tensor s = sign * target_scores(logits, targets, score);
      grad = torch::autograd::grad({s.sum()}, {leaf}, {}, false, false, true)[0];
      if (!grad.defined()) grad = at::zeros_like(pixels);
    }
    record(logits);
    const bool reached = o.targeted() ? t.predicted.back() == o.target() && t.target_probability.back() >= o.stop_probability()
                                      : t.predicted.back() != o.target() && t.target_probability.back() <= 1 - o.stop_probability();
    if (reached && (o.engine() != MorphEngine::fgsm || step == 1)) {
      t.reached = true;
      break;
    }
    if (step == steps) break;
    if (step == 0 && random_start.defined()) {
      pixels = random_start;
      continue;
    }
    // A normalised direction: the step size means the same whatever the gradient's scale.
    at::Tensor direction;
    if (o.norm() == MorphNorm::linf) {
      direction = grad.sign();
    } else {
      const double g = grad.norm().item<double>();
      if (g == 0) break;  // the gradient vanished: nowhere to go (e.g. a ReLU-dead logit)
      // gradient: a per-pixel RMS step of 1; pgd: an L2 step of 1 (torchattacks' PGDL2)
      direction = grad / g * (attack ? 1.0 : std::sqrt(numel));
    }
    pixels = pixels + step_size * direction;
    if (o.eps() > 0) {
      at::Tensor delta = pixels - start;
      if (o.norm() == MorphNorm::linf) {
        delta = delta.clamp(-o.eps(), o.eps());
      } else {
        const double d = delta.norm().item<double>();
        if (d > o.eps()) delta = delta * (o.eps() / d);
      }
      pixels = start + delta;
    }
    pixels = pixels.clamp(o.pixel_min(), o.pixel_max()).detach();
  }
  return t;
}

}  // namespace glassbox::explain
