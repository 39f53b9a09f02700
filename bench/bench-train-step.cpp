// What one training step of the seed's model costs, part by part: batch assembly, forward, loss,
// backward, optimizer step. Run: build/bench/bench-train-step
#include <benchmark/benchmark.h>
#include <torch/nn/functional/loss.h>
#include <torch/optim/adam.h>

#include "glassbox/data/dataset.h"
#include "glassbox/models/architectures.h"
#include "glassbox/util/threads.h"

namespace {

glassbox::data::Dataset synthetic(int64_t n) {
  return glassbox::data::Dataset(at::randint(0, 256, {n, 1, 28, 28}, at::kByte), at::randint(0, 10, {n}, at::kLong), 10);
}

void BM_BatchAssembly(benchmark::State& state) {
  glassbox::configure_threads(1);
  const auto d = synthetic(55000);
  const at::Tensor order = glassbox::data::epoch_order(d.size(), 0, 0);
  int64_t b = 0;
  for (auto _ : state) {
    const int64_t begin = (b++ * 64) % (55000 - 64);
    benchmark::DoNotOptimize(d.batch(order.slice(0, begin, begin + 64)));
  }
}
BENCHMARK(BM_BatchAssembly);

void BM_ForwardLoss(benchmark::State& state) {
  glassbox::configure_threads(1);
  auto model = glassbox::models::make_model(glassbox::models::ModelOptions("linear", {1, 28, 28}, 10));
  const at::Tensor x = at::rand({64, 1, 28, 28});
  const at::Tensor y = at::randint(0, 10, {64}, at::kLong);
  for (auto _ : state) benchmark::DoNotOptimize(torch::nn::functional::cross_entropy(model->forward(x), y));
}
BENCHMARK(BM_ForwardLoss);

void BM_ForwardLossBackward(benchmark::State& state) {
  glassbox::configure_threads(1);
  auto model = glassbox::models::make_model(glassbox::models::ModelOptions("linear", {1, 28, 28}, 10));
  const at::Tensor x = at::rand({64, 1, 28, 28});
  const at::Tensor y = at::randint(0, 10, {64}, at::kLong);
  for (auto _ : state) {
    for (auto& p : model->parameters()) p.mutable_grad() = at::Tensor();
    torch::nn::functional::cross_entropy(model->forward(x), y).backward();
  }
}
BENCHMARK(BM_ForwardLossBackward);

void BM_AdamStep(benchmark::State& state) {
  glassbox::configure_threads(1);
  auto model = glassbox::models::make_model(glassbox::models::ModelOptions("linear", {1, 28, 28}, 10));
  torch::optim::Adam adam(model->parameters(), torch::optim::AdamOptions(0.005));
  for (auto& p : model->parameters()) p.mutable_grad() = at::randn_like(p);
  for (auto _ : state) adam.step();
}
BENCHMARK(BM_AdamStep);

// The whole step as the Trainer runs it: batch, forward, loss, backward, Adam, loss value.
void BM_FullStep(benchmark::State& state) {
  glassbox::configure_threads(1);
  const auto d = synthetic(55000);
  const at::Tensor order = glassbox::data::epoch_order(d.size(), 0, 0);
  auto model = glassbox::models::make_model(glassbox::models::ModelOptions("linear", {1, 28, 28}, 10));
  torch::optim::Adam adam(model->parameters(), torch::optim::AdamOptions(0.005));
  int64_t b = 0;
  for (auto _ : state) {
    const int64_t begin = (b++ * 64) % (55000 - 64);
    const auto batch = d.batch(order.slice(0, begin, begin + 64));
    const at::Tensor loss = torch::nn::functional::cross_entropy(model->forward(batch.x), batch.y);
    for (auto& p : model->parameters()) p.mutable_grad() = at::Tensor();
    loss.backward();
    adam.step();
    benchmark::DoNotOptimize(loss.item<double>());
  }
}
BENCHMARK(BM_FullStep);

// The step without the data: what the model and optimizer alone cost.
void BM_ModelStep(benchmark::State& state) {
  glassbox::configure_threads(1);
  auto model = glassbox::models::make_model(glassbox::models::ModelOptions("linear", {1, 28, 28}, 10));
  torch::optim::Adam adam(model->parameters(), torch::optim::AdamOptions(0.005));
  const at::Tensor x = at::rand({64, 1, 28, 28});
  const at::Tensor y = at::randint(0, 10, {64}, at::kLong);
  for (auto _ : state) {
    const at::Tensor loss = torch::nn::functional::cross_entropy(model->forward(x), y);
    for (auto& p : model->parameters()) p.mutable_grad() = at::Tensor();
    loss.backward();
    adam.step();
    benchmark::DoNotOptimize(loss.item<double>());
  }
}
BENCHMARK(BM_ModelStep);

}  // namespace

BENCHMARK_MAIN();
