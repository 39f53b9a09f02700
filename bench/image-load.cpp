// Loading an image folder as `glassbox train` does: every image decoded, prepared (optionally Resize +
// CenterCrop) and kept in memory, on T threads. Prints images per second (best of R runs).
//   image-load ROOT THREADS [RESIZE CROP] [RUNS]
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "glassbox/data/load.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: image-load ROOT THREADS [RESIZE CROP] [RUNS]\n");
    return 2;
  }
  using namespace glassbox::data;
  const int threads = std::atoi(argv[2]);
  Preprocess pre;
  if (argc >= 5) pre.resize(std::atoi(argv[3])).crop(std::atoi(argv[4])).channels(Channels::rgb);
  const int runs = argc >= 6 ? std::atoi(argv[5]) : 3;
  double best = 1e30;
  int64_t n = 0;
  for (int r = 0; r < runs; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    const LoadedDataset d = load_dataset(argv[1], Split::train, DatasetOptions().preprocess(pre).threads(threads));
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    n = d.dataset.size();
  }
  std::printf("%.0f images/s (%lld images in %.3f s)\n", n / best, static_cast<long long>(n), best);
  return 0;
}
