// A layer method on a TorchScript model, timed beside its floor: one forward that also returns the
// layer's activation plus the backward from the target scores to that layer (what any gradient CAM must
// do). Inputs and targets come from a file gradcam_reference.py saved (--save), so that both sides run
// on the same batch.
//   cam-bench MODEL.pt REFERENCE.pt METHOD LAYER THREADS REPEAT [INTERNAL_BATCH]
// prints: METHOD: T s per batch (median of R); floor F s; peak RSS M MB
#include <sys/resource.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/script.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "glassbox/explain/gradients.h"
#include "glassbox/explain/methods.h"
#include "glassbox/models/torchscript.h"
#include "glassbox/util/file-bytes.h"
#include "glassbox/util/threads.h"
#include "glassbox/util/zip-archive.h"

using namespace glassbox;

namespace {

template <typename F>
double median_seconds(int repeat, F&& f) {
  f();  // warm-up, as the reference does
  std::vector<double> t;
  for (int i = 0; i < repeat; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 7) {
    std::fprintf(stderr, "usage: cam-bench MODEL.pt REFERENCE.pt METHOD LAYER THREADS REPEAT [INTERNAL_BATCH]\n");
    return 2;
  }
  configure_threads(std::atoi(argv[5]));
  const int repeat = std::atoi(argv[6]);
  const std::string bytes = read_file(argv[2]);
  ZipArchive check(bytes, argv[2]);
  const auto dict = torch::jit::pickle_load(std::vector<char>(bytes.begin(), bytes.end())).toGenericDict();
  const at::Tensor x = dict.at("input").toTensor(), targets = dict.at("targets").toTensor();
  models::TorchScriptClassifier model(argv[1], {x.size(1), x.size(2), x.size(3)});
  const std::string method = argv[3], layer = argv[4];
  explain::LayerOptions layer_options = explain::LayerOptions().layer(layer);
  if (argc > 7) layer_options.internal_batch_size(std::atoi(argv[7]));
  const explain::AttributeOptions options = explain::AttributeOptions().layer(layer_options);
  const explain::AttributionMethod& m = explain::find_attribution_method(method);
  const double seconds = median_seconds(repeat, [&] { m.attribute({model, x, targets, options}); });
  const double floor = median_seconds(repeat, [&] {
    models::EvalModeGuard eval(model);
    torch::jit::GraphOptimizerEnabledGuard unoptimized(false);
    const models::LayerForward f = model.forward_with_layer(x.detach().requires_grad_(true), layer);
    const at::Tensor s = explain::target_scores(f.logits, targets, explain::Score::logit).sum();
    torch::autograd::grad({s}, {f.activation});
  });
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::printf("%s: %.4f s per batch (median of %d); floor %.4f s; peak RSS %ld MB\n", method.c_str(), seconds, repeat,
              floor, usage.ru_maxrss / 1024);
  return 0;
}
