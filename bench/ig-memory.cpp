// Peak memory of Integrated Gradients against internal_batch_size: one IG call (cnn, batch 64,
// n_steps 50) per process, peak RSS from getrusage. Run: bench/run-ig-memory
#include <ATen/ATen.h>
#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>

#include "glassbox/explain/attribution.h"
#include "glassbox/models/architectures.h"
#include "glassbox/util/threads.h"

int main(int argc, char** argv) {
  const int64_t rows = argc > 1 ? std::atoll(argv[1]) : 64;
  glassbox::configure_threads(1);
  torch::manual_seed(0);
  auto cnn = glassbox::models::make_model(glassbox::models::ModelOptions("cnn", {1, 28, 28}, 10));
  const at::Tensor x = at::rand({64, 1, 28, 28});
  const at::Tensor t = at::randint(0, 10, {64}, at::kLong);
  struct rusage before {};
  getrusage(RUSAGE_SELF, &before);
  const auto a = glassbox::explain::integrated_gradients(
      *cnn, x, t, {}, glassbox::explain::IntegratedGradientsOptions().internal_batch_size(rows));
  struct rusage after {};
  getrusage(RUSAGE_SELF, &after);
  std::printf("internal_batch_size %5lld: peak RSS %6.1f MB (%6.1f MB above the set-up), sum %.4f\n",
              static_cast<long long>(rows), after.ru_maxrss / 1024.0, (after.ru_maxrss - before.ru_maxrss) / 1024.0,
              a.attributions.sum().item<double>());
}
