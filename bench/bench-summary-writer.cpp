// What logging costs: the calling thread's time per add_scalar, and how fast scalars reach the disk.
// Run: build/bench/bench-summary-writer
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <vector>

#include "glassbox/tensorboard/summary-writer.h"
#include "glassbox/train/csv-logger.h"
#include "glassbox/train/tensorboard-logger.h"

namespace {

std::string scratch(const char* name) {
  const auto dir = std::filesystem::temp_directory_path() / name;
  std::filesystem::remove_all(dir);
  return dir.string();
}

// Per-call latency on the caller's thread; the reported time is the median over repetitions of
// 1000-call batches (see the _median aggregate).
void BM_AddScalarCallerLatency(benchmark::State& state) {
  glassbox::tensorboard::SummaryWriter writer(scratch("glassbox-bench-latency"));
  int64_t step = 0;
  for (auto _ : state) writer.add_scalar("train_loss", 0.5, step++);
  writer.close();  // after the timed loop
}
BENCHMARK(BM_AddScalarCallerLatency)->Iterations(100000)->Repetitions(9)->ReportAggregatesOnly(true);

// The median of single-call latencies, measured one call at a time (clock overhead included).
void BM_AddScalarSingleCallMedian(benchmark::State& state) {
  glassbox::tensorboard::SummaryWriter writer(scratch("glassbox-bench-single"));
  std::vector<double> ns;
  ns.reserve(200000);
  int64_t step = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    writer.add_scalar("train_loss", 0.5, step++);
    ns.push_back(std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count());
  }
  std::nth_element(ns.begin(), ns.begin() + ns.size() / 2, ns.end());
  state.counters["median_ns"] = ns[ns.size() / 2];
  std::nth_element(ns.begin(), ns.begin() + ns.size() * 99 / 100, ns.end());
  state.counters["p99_ns"] = ns[ns.size() * 99 / 100];
  writer.close();
}
BENCHMARK(BM_AddScalarSingleCallMedian)->Iterations(200000);

// 1,000,000 scalars from add_scalar to a closed (fsynced) file.
void BM_MillionScalarsToDisk(benchmark::State& state) {
  for (auto _ : state) {
    glassbox::tensorboard::SummaryWriter writer(scratch("glassbox-bench-throughput"));
    for (int64_t i = 0; i < 1000000; ++i) writer.add_scalar("train_loss", 1.0 / double(i + 1), i);
    writer.close();
  }
  state.counters["records_per_s"] = benchmark::Counter(1e6 * double(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_MillionScalarsToDisk)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();

// What the Trainer pays per step for each logger (train_loss every step).
void BM_TensorBoardLoggerStep(benchmark::State& state) {
  glassbox::train::TensorBoardLogger logger(scratch("glassbox-bench-tblogger"));
  const std::map<std::string, double> metrics{{"train_loss_step", 0.5}};
  int64_t step = 0;
  for (auto _ : state) logger.log_metrics(metrics, step++);
}
BENCHMARK(BM_TensorBoardLoggerStep);

void BM_CsvLoggerStep(benchmark::State& state) {
  const std::string dir = scratch("glassbox-bench-csv");
  std::filesystem::create_directories(dir);
  glassbox::train::CsvLogger logger(dir + "/metrics.csv");
  const std::map<std::string, double> metrics{{"train_loss_step", 0.5}};
  int64_t step = 0;
  for (auto _ : state) logger.log_metrics(metrics, step++);
}
BENCHMARK(BM_CsvLoggerStep);

}  // namespace

BENCHMARK_MAIN();
