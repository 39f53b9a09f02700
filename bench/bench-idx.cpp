// Parsing an IDX buffer the size of fashion-mnist's training images (47 MB).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "glassbox/data/idx.h"

namespace {

void BM_ParseIdxImages(benchmark::State& state) {
  const uint32_t n = 60000, side = 28;
  std::vector<uint8_t> bytes = {0, 0, 8, 3};
  for (uint32_t d : {n, side, side})
    for (int s = 24; s >= 0; s -= 8) bytes.push_back(static_cast<uint8_t>(d >> s));
  bytes.resize(bytes.size() + size_t(n) * side * side, 17);
  for (auto _ : state) benchmark::DoNotOptimize(glassbox::data::parse_idx(bytes.data(), bytes.size(), "bench"));
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(bytes.size()));
}
BENCHMARK(BM_ParseIdxImages)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
