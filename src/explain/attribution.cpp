#include "glassbox/explain/attribution.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <cmath>

#include "glassbox/util/error.h"

namespace glassbox::explain {
namespace {

// Gauss-Legendre nodes and weights on [-1, 1] by Newton's method on P_n (Golub-Welsch would also do;
// n is small here, so the classic iteration from Chebyshev guesses converges in a few steps).
void gauss_legendre(int64_t n, std::vector<double>& nodes, std::vector<double>& weights) {
  nodes.assign(static_cast<size_t>(n), 0.0);
  weights.assign(static_cast<size_t>(n), 0.0);
  for (int64_t i = 0; i < (n + 1) / 2; ++i) {
    double z = std::cos(M_PI * (double(i) + 0.75) / (double(n) + 0.5));
    double dp = 0;
    for (int iter = 0; iter < 100; ++iter) {
      double p0 = 1, p1 = z;  // P_0, P_1
      for (int64_t k = 2; k <= n; ++k) {
        const double pk = ((2.0 * k - 1) * z * p1 - (k - 1.0) * p0) / double(k);
        p0 = p1;
        p1 = pk;
      }
      if (n == 1) p0 = 1, p1 = z;
      dp = double(n) * (z * p1 - p0) / (z * z - 1);  // P_n'(z)
      const double dz = p1 / dp;
      z -= dz;
      if (std::abs(dz) < 1e-15) break;
    }
    // Recompute the derivative at the converged node for the weight.
    double p0 = 1, p1 = z;
    for (int64_t k = 2; k <= n; ++k) {
      const double pk = ((2.0 * k - 1) * z * p1 - (k - 1.0) * p0) / double(k);
      p0 = p1;
      p1 = pk;
    }
    dp = n == 1 ? 1.0 : double(n) * (z * p1 - p0) / (z * z - 1);
    const double w = 2.0 / ((1 - z * z) * dp * dp);
    nodes[static_cast<size_t>(i)] = -z;
    nodes[static_cast<size_t>(n - 1 - i)] = z;
    weights[static_cast<size_t>(i)] = weights[static_cast<size_t>(n - 1 - i)] = w;
  }
}

at::Tensor broadcast_baseline(const at::Tensor& baselines, const at::Tensor& x) {
  if (!baselines.defined()) return at::zeros_like(x);
  at::Tensor b = baselines.to(x.device(), x.scalar_type());
  if (b.dim() == 3) b = b.unsqueeze(0);
  GLASSBOX_CHECK(b.dim() == 4 && (b.size(0) == 1 || b.size(0) == x.size(0)) && b.size(1) == x.size(1) &&
                     b.size(2) == x.size(2) && b.size(3) == x.size(3),
                 "baselines: ", baselines.sizes(), ", expected like the input ", x.sizes(), " or one [1, C, H, W]");
  return b.expand_as(x);
}

}  // namespace

at::Tensor saliency(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets, bool abs, Score score) {
  const at::Tensor g = input_gradients(model, x, targets, score).gradients;
  return abs ? g.abs() : g;
}

at::Tensor input_x_gradient(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets, Score score) {
  return input_gradients(model, x, targets, score).gradients * x;
}

void integration_points(const std::string& method, int64_t n, std::vector<double>& alphas, std::vector<double>& weights) {
  GLASSBOX_CHECK(n >= 1 && n <= kMaxIntegrationSteps, "n_steps ", n, ": expected 1..", kMaxIntegrationSteps);
  alphas.clear();
  weights.clear();
  if (method == "gausslegendre") {
    std::vector<double> nodes, w;
    gauss_legendre(n, nodes, w);
    for (int64_t i = 0; i < n; ++i) {
      alphas.push_back(0.5 * (nodes[i] + 1));  // [-1, 1] -> [0, 1]
      weights.push_back(0.5 * w[i]);
    }
    return;
  }
  if (method == "riemann_trapezoid") {
    GLASSBOX_CHECK(n >= 2, "riemann_trapezoid needs n_steps >= 2, got ", n);
    for (int64_t i = 0; i < n; ++i) {
      alphas.push_back(double(i) / double(n - 1));
      weights.push_back((i == 0 || i == n - 1 ? 0.5 : 1.0) / double(n - 1));
    }
    return;
  }
  double offset;
  if (method == "riemann_left") offset = 0;
  else if (method == "riemann_right") offset = 1;
  else if (method == "riemann_middle") offset = 0.5;
  else
    throw Error("method '" + printable_excerpt(method) + "': expected gausslegendre, riemann_left, riemann_right, "
                "riemann_middle or riemann_trapezoid");
  for (int64_t i = 0; i < n; ++i) {
    alphas.push_back((double(i) + offset) / double(n));
    weights.push_back(1.0 / double(n));
  }
}

Attribution integrated_gradients(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets,
                                 const at::Tensor& baselines, const IntegratedGradientsOptions& o) {
  check_batch(model, x, targets);
  std::vector<double> alphas, weights;
  integration_points(o.method(), o.n_steps(), alphas, weights);
  models::EvalModeGuard eval(model);
  const int64_t B = x.size(0), n = o.n_steps();
  const at::Tensor base = broadcast_baseline(baselines, x);
  const at::Tensor diff = x - base;
  const int64_t rows_per_pass = o.internal_batch_size() > 0 ? o.internal_batch_size() : B;
  // Steps per pass: whole copies of the batch, so each pass has one alpha per copy.
  const int64_t steps_per_pass = std::max<int64_t>(1, rows_per_pass / std::max<int64_t>(B, 1));
  at::Tensor total = at::zeros_like(x);
  const at::Tensor alpha_all = at::tensor(alphas, x.options().dtype(at::kDouble)).to(x.scalar_type());
  const at::Tensor weight_all = at::tensor(weights, x.options().dtype(at::kDouble)).to(x.scalar_type());
  for (int64_t s0 = 0; s0 < n; s0 += steps_per_pass) {
    const int64_t k = std::min(steps_per_pass, n - s0);
    // [k, B, C, H, W] scaled inputs, flattened to [k*B, C, H, W].
    const at::Tensor a = alpha_all.slice(0, s0, s0 + k).view({k, 1, 1, 1, 1});
    const at::Tensor scaled = (base.unsqueeze(0) + a * diff.unsqueeze(0)).reshape({k * B, x.size(1), x.size(2), x.size(3)});
    const at::Tensor g = input_gradients_unchecked(model, scaled, targets.repeat({k}), o.score());
    const at::Tensor w = weight_all.slice(0, s0, s0 + k).view({k, 1, 1, 1, 1});
    total.add_((g.view({k, B, x.size(1), x.size(2), x.size(3)}) * w).sum(0));
  }
  Attribution r;
  r.attributions = total * diff;
  if (o.return_convergence_delta()) {
    torch::autograd::AutoGradMode no_grad(false);
    const at::Tensor fx = target_scores(model.forward(x), targets, o.score());
    const at::Tensor fb = target_scores(model.forward(base.contiguous()), targets, o.score());
    r.delta = r.attributions.flatten(1).sum(1) - (fx - fb);
  }
  return r;
}

at::Tensor noise_tunnel(const std::function<at::Tensor(const at::Tensor&)>& method, const at::Tensor& x,
                        const NoiseTunnelOptions& o) {
  GLASSBOX_CHECK(o.nt_samples() >= 1, "nt_samples ", o.nt_samples(), ": expected at least 1");
  GLASSBOX_CHECK(o.stdevs() >= 0, "stdevs ", o.stdevs(), ": expected >= 0");
  const std::string& type = o.nt_type();
  GLASSBOX_CHECK(type == "smoothgrad" || type == "smoothgrad_sq" || type == "vargrad", "nt_type ", type,
                 ": expected smoothgrad, smoothgrad_sq or vargrad");
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(o.seed());
  at::Tensor sum = at::zeros_like(x), sum_sq = at::zeros_like(x);
  for (int64_t i = 0; i < o.nt_samples(); ++i) {
    at::Tensor noise = at::normal(0.0, 1.0, x.sizes(), gen, x.options().device(at::kCPU)).mul_(o.stdevs());
    const at::Tensor a = method(x + noise.to(x.device()));
    sum.add_(a);
    sum_sq.add_(a * a);
  }
  const double n = double(o.nt_samples());
  if (type == "smoothgrad") return sum / n;
  if (type == "smoothgrad_sq") return sum_sq / n;
  const at::Tensor mean = sum / n;
  return sum_sq / n - mean * mean;  // vargrad: the (biased) variance, as Captum
}

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

Method parse_method(const std::string& name) {
  if (name == "saliency") return Method::saliency;
  if (name == "ixg") return Method::input_x_gradient;
  if (name == "ig") return Method::integrated_gradients;
  if (name == "smoothgrad") return Method::smoothgrad;
  if (name == "occlusion") return Method::occlusion;
  throw Error("method '" + printable_excerpt(name) + "': expected saliency, ixg, ig, smoothgrad or occlusion");
}

const char* method_name(Method method) {
  switch (method) {
    case Method::saliency: return "saliency";
    case Method::input_x_gradient: return "ixg";
    case Method::integrated_gradients: return "ig";
    case Method::smoothgrad: return "smoothgrad";
    case Method::occlusion: return "occlusion";
  }
  return "?";
}

at::Tensor attribute(Method method, models::Classifier& model, const at::Tensor& x, const at::Tensor& targets,
                     const AttributeOptions& o) {
  const Score score = o.score();
  switch (method) {
    case Method::saliency: return saliency(model, x, targets, true, score);
    case Method::input_x_gradient: return input_x_gradient(model, x, targets, score);
    case Method::integrated_gradients: {
      IntegratedGradientsOptions ig = o.integrated_gradients();
      return integrated_gradients(model, x, targets, {}, ig.score(score)).attributions;
    }
    case Method::smoothgrad:
      check_batch(model, x, targets);
      return noise_tunnel([&](const at::Tensor& noisy) { return saliency(model, noisy, targets, false, score); }, x,
                          o.noise_tunnel());
    case Method::occlusion: {
      OcclusionOptions occ = o.occlusion();
      return occlusion(model, x, targets, occ.score(score));
    }
  }
  return {};
}

}  // namespace glassbox::explain
