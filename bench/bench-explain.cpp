// Attribution, mining and drawing costs against their floors, side by side in one run.
//   IG (n_steps 50, batch 64, cnn)  vs  50 passes of forward + input-only gradient on the batch
//   Saliency / SmoothGrad           vs  1 / nt_samples such passes
//   Guided Backprop, Deconvnet, LRP vs  1 such pass (the rewritten operators' backward against autograd's)
//   LRP                             vs  also that pass plus the layer passes its rules add (z^B, gamma)
//   DeepLift                        vs  1 pass on the batch and its references (2B rows)
//   GradientShap (5 samples)        vs  5 passes
//   Mining 10,000 images            vs  one no-grad pass over them
//   The seed's 2x3 figure, drawn and PNG-encoded
//   Each method that changes the backward pass and its floor alternately (BM_MethodAgainstFloor): the
//   median ratio of neighbouring runs, the measure the speed targets are read from
// Run: build/bench/bench-explain   (fashion-mnist's test images when data/fashion-mnist exists)
#include <ATen/ATen.h>
#include <benchmark/benchmark.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <vector>

#include "glassbox/data/named.h"
#include "glassbox/explain/attribution.h"
#include "glassbox/explain/methods.h"
#include "glassbox/explain/modified-backward.h"
#include "glassbox/explain/confusion.h"
#include "glassbox/explain/figures.h"
#include "glassbox/models/architectures.h"
#include "glassbox/util/threads.h"
#include "keep-freed-memory.h"

using namespace glassbox;

namespace {

struct Setup {
  std::unique_ptr<models::ModuleClassifier> cnn;
  at::Tensor x, targets;
  data::Dataset test;
  Setup() {
    configure_threads(1);
    torch::manual_seed(0);
    cnn = models::make_model(models::ModelOptions("cnn", {1, 28, 28}, 10));
    cnn->train(false);
    if (std::filesystem::exists("data/fashion-mnist")) {
      test = data::load_idx_dataset("fashion-mnist", data::Split::test);
    } else {
      test = data::Dataset(at::randint(0, 256, {10000, 1, 28, 28}, at::kByte), at::randint(0, 10, {10000}, at::kLong), 10);
    }
    const data::Batch b = test.batch(0, 64);
    x = b.x;
    targets = b.y;
  }
};

Setup& setup() {
  static Setup s;
  return s;
}

void floor_passes(int64_t passes) {
  Setup& s = setup();
  for (int64_t i = 0; i < passes; ++i)
    benchmark::DoNotOptimize(explain::input_gradients_unchecked(*s.cnn, s.x, s.targets, explain::Score::logit));
}

void floor_pass_of_rows(int64_t copies) {  // one pass over `copies` stacked copies of the batch
  Setup& s = setup();
  static std::map<int64_t, std::pair<at::Tensor, at::Tensor>> batches;
  auto& [x, t] = batches[copies];
  if (!x.defined()) {
    x = s.x.repeat({copies, 1, 1, 1});
    t = s.targets.repeat({copies});
  }
  benchmark::DoNotOptimize(explain::input_gradients_unchecked(*s.cnn, x, t, explain::Score::logit));
}

void BM_IG_Floor50Passes(benchmark::State& state) {
  for (auto _ : state) floor_passes(50);
}
BENCHMARK(BM_IG_Floor50Passes)->Unit(benchmark::kMillisecond)->MinWarmUpTime(1.0)->MinTime(4.0);

void BM_IG_InternalBatch64(benchmark::State& state) {
  Setup& s = setup();
  for (auto _ : state)
    benchmark::DoNotOptimize(explain::integrated_gradients(*s.cnn, s.x, s.targets, {},
                                                           explain::IntegratedGradientsOptions().internal_batch_size(64)));
}
BENCHMARK(BM_IG_InternalBatch64)->Unit(benchmark::kMillisecond)->MinWarmUpTime(1.0)->MinTime(4.0);

void BM_IG_InternalBatch640(benchmark::State& state) {
  Setup& s = setup();
  for (auto _ : state)
    benchmark::DoNotOptimize(explain::integrated_gradients(*s.cnn, s.x, s.targets, {},
                                                           explain::IntegratedGradientsOptions().internal_batch_size(640)));
}
BENCHMARK(BM_IG_InternalBatch640)->Unit(benchmark::kMillisecond)->MinWarmUpTime(1.0)->MinTime(4.0);

void BM_Saliency_Floor1Pass(benchmark::State& state) {
  for (auto _ : state) floor_passes(1);
}
BENCHMARK(BM_Saliency_Floor1Pass)->Unit(benchmark::kMillisecond)->MinWarmUpTime(0.5)->MinTime(2.0);

void BM_Saliency(benchmark::State& state) {
  Setup& s = setup();
  for (auto _ : state) benchmark::DoNotOptimize(explain::saliency(*s.cnn, s.x, s.targets));
}
BENCHMARK(BM_Saliency)->Unit(benchmark::kMillisecond)->MinWarmUpTime(0.5)->MinTime(2.0);

void BM_SmoothGrad_Floor10Passes(benchmark::State& state) {
  for (auto _ : state) floor_passes(10);
}
BENCHMARK(BM_SmoothGrad_Floor10Passes)->Unit(benchmark::kMillisecond)->MinWarmUpTime(0.5)->MinTime(2.0);

void BM_SmoothGrad(benchmark::State& state) {
  Setup& s = setup();
  for (auto _ : state) benchmark::DoNotOptimize(explain::attribute("smoothgrad", *s.cnn, s.x, s.targets));
}
BENCHMARK(BM_SmoothGrad)->Unit(benchmark::kMillisecond)->MinWarmUpTime(0.5)->MinTime(2.0);

// The methods that change the backward pass, on the same batch.
void BM_RuleMethod(benchmark::State& state, const char* method) {
  Setup& s = setup();
  for (auto _ : state) benchmark::DoNotOptimize(explain::attribute(method, *s.cnn, s.x, s.targets));
}
BENCHMARK_CAPTURE(BM_RuleMethod, guided_backprop, "guided_backprop")->Unit(benchmark::kMillisecond)->MinWarmUpTime(0.5)->MinTime(2.0);
BENCHMARK_CAPTURE(BM_RuleMethod, deconvnet, "deconvnet")->Unit(benchmark::kMillisecond)->MinWarmUpTime(0.5)->MinTime(2.0);
BENCHMARK_CAPTURE(BM_RuleMethod, lrp, "lrp")->Unit(benchmark::kMillisecond)->MinWarmUpTime(0.5)->MinTime(2.0);

// The passes LRP's default composite (epsilon_gamma_box) must make beyond one forward and input-gradient
// pass: z^B at conv1 runs that layer forward on the two bounds (with W+ and W-; at least one convolution
// over both, stacked as channels) and transposed for them; gamma at conv2 runs that convolution forward
// once more with W + gamma W+ (each layer's transposed pass with its own weights is the plain pass's).
// Their inputs are made once, outside any timing.
struct LrpFloor {
  at::Tensor w1, w2, b2, bounds, h1, grad1;
  LrpFloor() {
    Setup& s = setup();
    for (const auto& [name, p] : s.cnn->named_parameters()) {
      if (name == "conv1.weight") w1 = p.detach();
      if (name == "conv2.weight") w2 = p.detach();
      if (name == "conv2.bias") b2 = p.detach();
    }
    const at::Tensor x = s.x.to(at::kFloat);
    bounds = at::cat({x.amin({2, 3}, true).expand_as(x), x.amax({2, 3}, true).expand_as(x)}, 1);
    torch::autograd::AutoGradMode no_grad(false);
    const at::Tensor z1 = at::conv2d(x, w1, {}, 1, 1);
    h1 = at::max_pool2d(at::relu(z1), {2, 2});
    grad1 = at::randn_like(z1);
  }
  void run() const {
    floor_passes(1);
    torch::autograd::AutoGradMode no_grad(false);
    const at::Tensor w = at::cat({w1.clamp_min(0), w1.clamp_max(0)}, 1);
    benchmark::DoNotOptimize(at::conv2d(bounds, w, {}, 1, 1));
    benchmark::DoNotOptimize(std::get<0>(at::convolution_backward(grad1, bounds, w, c10::nullopt, {1, 1}, {1, 1}, {1, 1}, false,
                                                                  {0, 0}, 1, {true, false, false})));
    benchmark::DoNotOptimize(at::conv2d(h1, w2 + 0.25 * w2.clamp_min(0), b2 + 0.25 * b2.clamp_min(0), 1, 1));
  }
};

const LrpFloor& lrp_floor() {
  static LrpFloor f;
  return f;
}

void BM_Lrp_Floor1PassAndItsRulesLayers(benchmark::State& state) {
  const LrpFloor& floor = lrp_floor();
  for (auto _ : state) floor.run();
}
BENCHMARK(BM_Lrp_Floor1PassAndItsRulesLayers)->Unit(benchmark::kMillisecond)->MinWarmUpTime(0.5)->MinTime(2.0);

void BM_DeepLift_Floor1PassOf2B(benchmark::State& state) {
  for (auto _ : state) floor_pass_of_rows(2);
}
BENCHMARK(BM_DeepLift_Floor1PassOf2B)->Unit(benchmark::kMillisecond)->MinWarmUpTime(0.5)->MinTime(2.0);
BENCHMARK_CAPTURE(BM_RuleMethod, deeplift, "deeplift")->Unit(benchmark::kMillisecond)->MinWarmUpTime(0.5)->MinTime(2.0);

void BM_GradientShap_Floor5Passes(benchmark::State& state) {
  for (auto _ : state) floor_passes(5);
}
BENCHMARK(BM_GradientShap_Floor5Passes)->Unit(benchmark::kMillisecond)->MinWarmUpTime(0.5)->MinTime(2.0);
BENCHMARK_CAPTURE(BM_RuleMethod, gradient_shap, "gradient_shap")->Unit(benchmark::kMillisecond)->MinWarmUpTime(0.5)->MinTime(2.0);

// Each method and its floor run alternately, in turn first, and every iteration's ratio is kept: on a
// shared machine whose speed drifts by 2x over minutes, separate benchmarks' times disagree more than
// the methods differ; a ratio of neighbouring runs does not drift with it. Reported: the median ratio
// (the speed target), the medians of both times; the time is the method's. Saliency, the plain gradient
// through the same entry point, shows what the entry itself costs.

std::function<void()> floor_of(const std::string& method) {
  if (method == "deeplift") return [] { floor_pass_of_rows(2); };  // the batch and its references
  if (method == "deeplift_shap")  // each sample with each of its references, and those references
    return [] { floor_pass_of_rows(2 * explain::DeepLiftOptions().n_baselines()); };
  if (method == "lrp") return [] { lrp_floor().run(); };
  if (method == "gradient_shap") return [] { floor_passes(5); };
  if (method == "guided_gradcam") return [] { floor_passes(2); };  // Guided Backprop's and Grad-CAM's
  return [] { floor_passes(1); };
}

void BM_MethodAgainstFloor(benchmark::State& state, const char* method) {
  Setup& s = setup();
  const std::function<void()> floor = floor_of(method);
  const std::function<void()> run = [&] { benchmark::DoNotOptimize(explain::attribute(method, *s.cnn, s.x, s.targets)); };
  auto timed = [](const std::function<void()>& f) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  std::vector<double> ratios, method_s, floor_s;
  for (auto _ : state) {
    const bool floor_first = ratios.size() % 2 == 0;
    const double a = timed(floor_first ? floor : run), b = timed(floor_first ? run : floor);
    const double m = floor_first ? b : a, f = floor_first ? a : b;
    ratios.push_back(m / f);
    method_s.push_back(m);
    floor_s.push_back(f);
    state.SetIterationTime(m);
  }
  auto median = [](std::vector<double> v) {
    std::nth_element(v.begin(), v.begin() + long(v.size() / 2), v.end());
    return v[v.size() / 2];
  };
  state.counters["ratio"] = median(ratios);
  state.counters["method_ms"] = 1e3 * median(method_s);
  state.counters["floor_ms"] = 1e3 * median(floor_s);
}
#define AGAINST_FLOOR(method) \
  BENCHMARK_CAPTURE(BM_MethodAgainstFloor, method, #method)->UseManualTime()->Unit(benchmark::kMillisecond)->MinTime(4.0)
AGAINST_FLOOR(saliency);
AGAINST_FLOOR(guided_backprop);
AGAINST_FLOOR(deconvnet);
AGAINST_FLOOR(guided_gradcam);
AGAINST_FLOOR(deeplift);
AGAINST_FLOOR(deeplift_shap);
AGAINST_FLOOR(gradient_shap);
AGAINST_FLOOR(lrp);

void BM_Mining_FloorNoGradPass(benchmark::State& state) {
  Setup& s = setup();
  for (auto _ : state) {
    torch::autograd::AutoGradMode no_grad(false);
    for (int64_t b = 0; b < s.test.size(); b += 1000)
      benchmark::DoNotOptimize(s.cnn->forward(s.test.batch(b, std::min(s.test.size(), b + 1000)).x));
  }
}
BENCHMARK(BM_Mining_FloorNoGradPass)->Unit(benchmark::kMillisecond)->MinWarmUpTime(3.0)->MinTime(6.0);

void BM_Mining(benchmark::State& state) {
  Setup& s = setup();
  for (auto _ : state) benchmark::DoNotOptimize(explain::mine_confusion(*s.cnn, {}, s.test, explain::MiningOptions().top(16)));
}
BENCHMARK(BM_Mining)->Unit(benchmark::kMillisecond)->MinWarmUpTime(3.0)->MinTime(6.0);

void BM_Mining_Top16Explanations(benchmark::State& state) {
  Setup& s = setup();
  const at::Tensor x = s.x.narrow(0, 0, 16), y = s.targets.narrow(0, 0, 16);
  const at::Tensor b = (y + 1).remainder(10);
  for (auto _ : state) {
    const auto figs = explain::confusion_figure_data(*s.cnn, {}, x, y, y, b, 3.0);
    for (const auto& f : figs) benchmark::DoNotOptimize(explain::render_confusion_figure(f));
  }
}
BENCHMARK(BM_Mining_Top16Explanations)->Unit(benchmark::kMillisecond)->MinWarmUpTime(0.5)->MinTime(2.0);

void BM_SeedFigure_RenderAndPng(benchmark::State& state) {
  Setup& s = setup();
  const auto figs = explain::confusion_figure_data(*s.cnn, {}, s.x.narrow(0, 0, 1), s.targets.narrow(0, 0, 1),
                                                   s.targets.narrow(0, 0, 1), (s.targets.narrow(0, 0, 1) + 1).remainder(10), 3.0);
  for (auto _ : state) benchmark::DoNotOptimize(explain::render_confusion_figure(figs[0]));
}
BENCHMARK(BM_SeedFigure_RenderAndPng)->Unit(benchmark::kMillisecond)->Repetitions(5)->ReportAggregatesOnly(true);

}  // namespace

int main(int argc, char** argv) {
  bench::keep_freed_memory();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
