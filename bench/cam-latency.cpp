// CAM latency in torch-cam's published format (its README's table: 224 x 224, one image, the forward
// excluded, median and IQR over the iterations), for glassbox's methods on a TorchScript model. A
// glassbox method runs its own forward, so each iteration times the method and, beside it, the forward
// it makes (the layer's activation returned with grad mode on, or the attention weights for rollout);
// the overhead is their difference, iteration by iteration.
//   cam-latency MODEL.pt SIZE LAYER THREADS ITERATIONS METHOD[,METHOD...]
// prints per method: METHOD overhead_median_ms overhead_IQR_ms whole_median_ms
#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <cstdio>
#include <sstream>

#include "glassbox/explain/methods.h"
#include "glassbox/models/torchscript.h"
#include "glassbox/util/threads.h"

using namespace glassbox;

namespace {

double seconds_of(const std::function<void()>& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// The quartile q (0..4) of sorted values, interpolated as Python's statistics.quantiles (exclusive).
double quartile(const std::vector<double>& v, int q) {
  const double pos = q * (v.size() + 1) / 4.0 - 1;
  const size_t lo = size_t(std::clamp(pos, 0.0, double(v.size() - 1)));
  const size_t hi = std::min(lo + 1, v.size() - 1);
  const double frac = std::clamp(pos - double(lo), 0.0, 1.0);
  return v[lo] + frac * (v[hi] - v[lo]);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 7) {
    std::fprintf(stderr, "usage: cam-latency MODEL.pt SIZE LAYER THREADS ITERATIONS METHOD[,METHOD...]\n");
    return 2;
  }
  const int64_t size = std::atoll(argv[2]);
  const std::string layer = argv[3];
  configure_threads(std::atoi(argv[4]));
  const int iterations = std::atoi(argv[5]);
  models::TorchScriptClassifier model(argv[1], {3, size, size}, models::TorchScriptOptions().isolated_first_load(false));
  at::manual_seed(0);
  const at::Tensor x = at::rand({1, 3, size, size});
  const at::Tensor target = model.forward(x).argmax(1);
  const explain::AttributeOptions options = explain::AttributeOptions().layer(explain::LayerOptions().layer(layer));
  std::stringstream names(argv[6]);
  for (std::string name; std::getline(names, name, ',');) {
    const explain::AttributionMethod& method = explain::find_attribution_method(name);
    const auto forward = [&] {
      models::EvalModeGuard eval(model);
      torch::autograd::AutoGradMode grad(true);
      const at::Tensor input = x.detach().requires_grad_(true);
      if (method.uses_layer())
        model.forward_with_layer(input, layer);
      else
        model.forward_with_attention(input);
    };
    const auto run = [&] { method.attribute({model, x, target, options}); };
    std::vector<double> overhead, whole;
    for (int i = 0; i <= iterations; ++i) {  // the first is a warm-up
      const double f = seconds_of(forward), m = seconds_of(run);
      if (i == 0) continue;
      overhead.push_back(m - f);
      whole.push_back(m);
    }
    std::sort(overhead.begin(), overhead.end());
    std::sort(whole.begin(), whole.end());
    std::printf("%s %.2f %.2f %.2f\n", name.c_str(), 1000 * quartile(overhead, 2),
                1000 * (quartile(overhead, 3) - quartile(overhead, 1)), 1000 * quartile(whole, 2));
    std::fflush(stdout);
  }
  return 0;
}
