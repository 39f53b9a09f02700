#include "perturbation.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <chrono>
#include <limits>

#include "glassbox/util/error.h"

namespace glassbox::evaluate {

void check_metric_inputs(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets,
                         const at::Tensor& attributions, const char* what) {
  try {
    explain::check_batch(model, x, targets);
  } catch (Error& e) {
    throw Error(std::string(what) + ": " + e.what());
  }
  GLASSBOX_CHECK(attributions.defined() && attributions.dim() == 4 && attributions.size(0) == x.size(0) &&
                     (attributions.size(1) == x.size(1) || attributions.size(1) == 1) &&
                     attributions.size(2) == x.size(2) && attributions.size(3) == x.size(3),
                 what, ": attributions ", attributions.defined() ? attributions.sizes() : at::IntArrayRef{},
                 " do not cover the input ", x.sizes(), ": expected them like it, or [B, 1, H, W] (a CAM upsampled to it)");
  GLASSBOX_CHECK(at::isfinite(attributions).all().item<bool>(), what, ": attributions are not all finite");
}

ExplainFunction method_explainer(const MetricRequest& r, const char* metric, const char* why) {
  GLASSBOX_CHECK(r.method && r.attribute, "metric ", metric, ": ", why, ", so needs the method, not only its attributions");
  return [&model = r.model, method = r.method, attribute = r.attribute](const at::Tensor& x, const at::Tensor& targets) {
    return method->attribute({model, x, targets, *attribute}).detach();
  };
}

at::Tensor pixel_relevance(const at::Tensor& attributions) {
  return attributions.to(at::kFloat).sum(1).flatten(1);
}

at::Tensor pixel_ranks(const at::Tensor& relevance) {
  const at::Tensor order = std::get<1>(relevance.sort(/*stable=*/true, /*dim=*/1, /*descending=*/true));
  at::Tensor ranks = at::empty_like(order);
  const at::Tensor positions = at::arange(order.size(1), order.options()).expand_as(order);
  return ranks.scatter_(1, order, positions);
}

at::Generator sample_generator(uint64_t seed, int64_t index) {
  // Distinct, well-spread seeds per sample (splitmix64's increment), so that neighbouring samples do not
  // share streams.
  return at::make_generator<at::CPUGeneratorImpl>(seed + 0x9E3779B97F4A7C15ull * static_cast<uint64_t>(index + 1));
}

int64_t rows_per_pass(int64_t requested, const at::Tensor& x) {
  if (requested > 0) return requested;
  const int64_t values = x.dim() > 1 ? x[0].numel() : 1;
  const int64_t budget = x.is_cuda() ? int64_t(1) << 23 : int64_t(1) << 16;
  return std::max<int64_t>(1, budget / std::max<int64_t>(1, values));
}

at::Tensor scores_in_batches(models::Classifier& model, int64_t rows,
                             const std::function<at::Tensor(int64_t, int64_t)>& make, const at::Tensor& row_targets,
                             explain::Score score, int64_t per_eval, const at::Tensor& like) {
  GLASSBOX_CHECK_PARAM(per_eval >= 0, "perturbations_per_eval", per_eval, "expected 0 (automatic) or more");
  models::EvalModeGuard eval(model);
  torch::autograd::AutoGradMode no_grad(false);
  std::vector<at::Tensor> out;
  auto pass = [&](int64_t begin, int64_t end) {
    const at::Tensor logits = model.forward(make(begin, end));
    out.push_back(explain::target_scores(logits.to(at::kFloat), row_targets.slice(0, begin, end), score));
  };
  int64_t begin = 0, size = per_eval;
  if (size == 0 && like.is_cuda()) size = rows_per_pass(0, like);
  if (size == 0) {
    // Automatic on a CPU: the fastest pass size depends on the model's activations against the caches
    // (measured: ResNet-18 at 224 x 224 fastest one image a pass, a small mnist CNN at 8, another at 64).
    // Passes of 1, 2, 4, ... rows (real rows, nothing computed twice) are timed, the second of each size
    // (a TorchScript module specialises on a new shape during the first), while the time per row falls
    // by a tenth or more; the rest go at the best size. Bounded by the memory budget of rows_per_pass.
    const int64_t cap = std::max<int64_t>(1, rows_per_pass(0, like) * 4);
    double best_rate = std::numeric_limits<double>::infinity();
    int64_t best = 1;
    for (int64_t trial = 1; trial <= cap && begin + 2 * trial <= rows; trial *= 2) {
      pass(begin, begin + trial);
      const auto t0 = std::chrono::steady_clock::now();
      pass(begin + trial, begin + 2 * trial);
      const double rate = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / static_cast<double>(trial);
      begin += 2 * trial;
      if (rate > best_rate * 0.9) break;
      best_rate = rate, best = trial;
    }
    size = best;
  }
  for (; begin < rows; begin += size) pass(begin, std::min(rows, begin + size));
  return at::cat(out);
}

at::Tensor draw_per_sample(const at::Tensor& x, int64_t count, uint64_t seed, int64_t first_sample,
                           const std::function<at::Tensor(const at::Tensor&, at::Generator&)>& draw) {
  std::vector<at::Tensor> out;
  const at::Tensor host = x.to(at::kCPU, at::kFloat);
  for (int64_t i = 0; i < x.size(0); ++i) {
    at::Generator g = sample_generator(seed, first_sample + i);
    const at::Tensor copies = host[i].unsqueeze(0).expand({count, x.size(1), x.size(2), x.size(3)}).contiguous();
    const at::Tensor drawn = draw(copies, g);
    GLASSBOX_CHECK(drawn.defined() && drawn.sizes() == copies.sizes(), "perturb_func: returned ",
                   drawn.defined() ? drawn.sizes() : at::IntArrayRef{}, ", expected a perturbation like its input ",
                   copies.sizes());
    out.push_back(drawn);
  }
  return at::cat(out).to(x.device(), x.scalar_type());
}

}  // namespace glassbox::evaluate
