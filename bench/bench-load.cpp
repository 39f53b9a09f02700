// What loading safely costs. A TorchScript module (the ResNet-18 fixture, 47 MB, probed at 224 x 224)
// loaded with and without the first load in a checking child process; a glassbox checkpoint read with
// every check (container, digests, metadata) against libtorch reading the same bytes unchecked.
// Run: build/bench/bench-load [data/models/resnet18.pt] [a checkpoint]
#include <benchmark/benchmark.h>
#include <torch/serialize.h>

#include <filesystem>

#include "glassbox/models/checkpoint.h"
#include "glassbox/models/torchscript.h"
#include "glassbox/util/file-bytes.h"

using namespace glassbox;

namespace {

std::string g_torchscript = "data/models/resnet18.pt";
std::string g_checkpoint;

void BM_LoadTorchScript(benchmark::State& state) {
  const bool isolated = state.range(0) != 0;
  for (auto _ : state) {
    models::TorchScriptClassifier m(g_torchscript, {3, 224, 224}, models::TorchScriptOptions().isolated_first_load(isolated));
    benchmark::DoNotOptimize(m.num_classes());
  }
  state.SetLabel(isolated ? "checked in a child first" : "unchecked");
}
BENCHMARK(BM_LoadTorchScript)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->Iterations(5);

void BM_LoadCheckpoint(benchmark::State& state) {
  const bool checked = state.range(0) != 0;
  const models::ModelOptions options = models::CheckpointFile(g_checkpoint).meta().model;
  for (auto _ : state) {
    if (checked) {
      models::CheckpointFile f(g_checkpoint);
      benchmark::DoNotOptimize(f.make_model());
    } else {  // the same model built and its weights read by libtorch, nothing checked
      const std::string bytes = read_file(g_checkpoint);
      torch::serialize::InputArchive archive;
      archive.load_from(bytes.data(), bytes.size());
      auto model = models::make_model(options);
      model->module().load(archive);
      benchmark::DoNotOptimize(model);
    }
  }
  state.SetLabel(checked ? "container, digests and metadata checked" : "libtorch alone");
}
BENCHMARK(BM_LoadCheckpoint)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->Iterations(10);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (argc > 1) g_torchscript = argv[1];
  if (argc > 2) g_checkpoint = argv[2];
  if (!std::filesystem::exists(g_torchscript)) {
    std::fprintf(stderr, "bench-load: %s missing (scripts/setup makes it)\n", g_torchscript.c_str());
    return 2;
  }
  if (g_checkpoint.empty()) benchmark::RegisterBenchmark("skipped: no checkpoint given", [](benchmark::State& s) {
      for (auto _ : s) {
      }
    });
  benchmark::RunSpecifiedBenchmarks();
  return 0;
}
