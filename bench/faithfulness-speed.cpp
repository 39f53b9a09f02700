// Deletion and insertion on a TorchScript model, timed, for bench/run-faithfulness-bench: the inputs,
// attributions and targets bench/faithfulness_reference.py wrote, the curves written back for comparison
// with its per-sample loop.
//   faithfulness-speed DIR INPUTS CHANNELS SIZE STEPS THREADS PERTURBATIONS_PER_EVAL
// prints "seconds S" (both curves of every photo) and "peak_rss_mb M"; writes DIR/glassbox-deletion-PE.raw
// and DIR/glassbox-insertion-PE.raw ([INPUTS, STEPS + 1] float64). The model is DIR/model.pt.
#include <ATen/ATen.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>

#include "glassbox/evaluate/faithfulness.h"
#include "glassbox/models/torchscript.h"
#include "glassbox/util/threads.h"

using namespace glassbox;

namespace {

at::Tensor read_raw(const std::string& path, at::IntArrayRef shape, at::ScalarType type) {
  std::ifstream in(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  at::Tensor t = at::empty(shape, type);
  if (bytes.size() != size_t(t.numel()) * t.element_size()) throw std::runtime_error(path + ": unexpected size");
  std::memcpy(t.data_ptr(), bytes.data(), bytes.size());
  return t;
}

void write_raw(const std::string& path, const at::Tensor& t) {
  const at::Tensor c = t.contiguous();
  std::ofstream(path, std::ios::binary).write(static_cast<const char*>(c.data_ptr()), c.numel() * c.element_size());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 8) {
    std::fprintf(stderr, "usage: faithfulness-speed DIR INPUTS CHANNELS SIZE STEPS THREADS PERTURBATIONS_PER_EVAL\n");
    return 2;
  }
  const std::string dir = argv[1];
  const int64_t n = std::atoll(argv[2]), c = std::atoll(argv[3]), size = std::atoll(argv[4]), steps = std::atoll(argv[5]),
                per_eval = std::atoll(argv[7]);
  configure_threads(std::atoi(argv[6]));
  models::TorchScriptClassifier model(dir + "/model.pt", {c, size, size});
  const at::Tensor x = read_raw(dir + "/x.raw", {n, c, size, size}, at::kFloat);
  const at::Tensor a = read_raw(dir + "/a.raw", {n, c, size, size}, at::kFloat);
  const at::Tensor t = read_raw(dir + "/t.raw", {n}, at::kLong);
  const evaluate::PixelFlippingOptions options = evaluate::PixelFlippingOptions().steps(steps);
  const auto t0 = std::chrono::steady_clock::now();
  const evaluate::PerturbationCurve del = evaluate::deletion(model, x, t, a, options, per_eval);
  const evaluate::PerturbationCurve ins = evaluate::insertion(model, x, t, a, options, per_eval);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  write_raw(dir + "/glassbox-deletion-" + std::to_string(per_eval) + ".raw", del.curve);
  write_raw(dir + "/glassbox-insertion-" + std::to_string(per_eval) + ".raw", ins.curve);
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::printf("seconds %.3f\npeak_rss_mb %.0f\n", seconds, usage.ru_maxrss / 1024.0);
  return 0;
}
