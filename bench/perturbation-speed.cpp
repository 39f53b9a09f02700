// KernelSHAP and Shapley value sampling on ResNet-18 at 224x224 against their floors: the same number of
// forward passes over the same perturbed images, batched as the methods batch them (perturbations_per_eval
// 64). KernelSHAP with 200 coalitions runs 202 forwards (the empty and full coalitions added); Shapley
// sampling with 2 orders of 49 cells (32-pixel cells) runs 100; LIME with 200 subsets of about 200 SLIC
// superpixels runs 200 (its time includes the segmentation). Run from the repository root:
//   build/bench/perturbation-speed [data/models/resnet18.pt]
#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <utility>

#include "glassbox/explain/perturbation-methods.h"
#include "glassbox/models/torchscript.h"
#include "glassbox/util/threads.h"
#include "keep-freed-memory.h"

using namespace glassbox;

namespace {

double seconds(const std::function<void()>& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void floor_passes(models::Classifier& model, const at::Tensor& x, int64_t rows) {
  torch::autograd::AutoGradMode no_grad(false);
  for (int64_t r = 0; r < rows; r += 64) {
    const int64_t k = std::min<int64_t>(64, rows - r);
    at::Tensor batch = x.expand({k, x.size(1), x.size(2), x.size(3)}).clone();
    batch.mul_(at::rand({k, 1, 1, 1}));  // perturbed copies, as the methods make them
    (void)model.forward(batch);
  }
}

}  // namespace

int main(int argc, char** argv) {
  bench::keep_freed_memory();
  const std::string path = argc > 1 ? argv[1] : "data/models/resnet18.pt";
  models::TorchScriptClassifier model(path, {3, 224, 224}, models::TorchScriptOptions().isolated_first_load(false));
  model.train(false);
  torch::manual_seed(0);
  const at::Tensor x = at::rand({1, 3, 224, 224});
  const at::Tensor t = at::tensor({1}, at::kLong);
  const explain::PerturbationOptions kshap = explain::PerturbationOptions().feature_size(16).n_samples(200);
  const explain::PerturbationOptions shapley = explain::PerturbationOptions().feature_size(32).n_samples(2);
  const explain::PerturbationOptions lime = explain::PerturbationOptions()
                                                .feature_mask(explain::FeatureMaskKind::superpixels)
                                                .slic(explain::SlicOptions().n_segments(200))
                                                .n_samples(200);
  floor_passes(model, x, 64);  // warm-up
  // Each method beside its floor, the floor first in even rounds and second in odd ones.
  auto pair = [](int rep, const std::function<void()>& floor, const std::function<void()>& method) {
    double f = 0, m = 0;
    if (rep % 2 == 0) f = seconds(floor);
    m = seconds(method);
    if (rep % 2 == 1) f = seconds(floor);
    return std::make_pair(f, m);
  };
  for (int rep = 0; rep < 3; ++rep) {
    const auto [floor_k, k] = pair(rep, [&] { floor_passes(model, x, 202); }, [&] { explain::kernel_shap(model, x, t, kshap); });
    const auto [floor_s, s] =
        pair(rep, [&] { floor_passes(model, x, 100); }, [&] { explain::shapley_value_sampling(model, x, t, shapley); });
    const auto [floor_l, l] = pair(rep, [&] { floor_passes(model, x, 200); }, [&] { explain::lime(model, x, t, lime); });
    std::printf("kernel_shap 200 coalitions: %.2f s, floor 202 forwards %.2f s, ratio %.3f\n", k, floor_k, k / floor_k);
    std::printf("shapley_sampling 2 orders of 49 cells: %.2f s, floor 100 forwards %.2f s, ratio %.3f\n", s, floor_s, s / floor_s);
    std::printf("lime 200 subsets of superpixels: %.2f s, floor 200 forwards %.2f s, ratio %.3f\n", l, floor_l, l / floor_l);
  }
}
