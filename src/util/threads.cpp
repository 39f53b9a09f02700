#include "glassbox/util/threads.h"

#include <ATen/Parallel.h>
#include <dlfcn.h>

#include <thread>

#include "glassbox/util/error.h"

namespace glassbox {
namespace {

// OpenBLAS is found at run time: the binary may be linked against another BLAS (MKL in official
// LibTorch builds), in which case there is nothing to configure.
void set_openblas_threads(int n) {
  using SetThreads = void (*)(int);
  if (auto fn = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) fn(n);
}

}  // namespace

int max_threads() { return static_cast<int>(std::max(8u, 4 * std::thread::hardware_concurrency())); }

int configure_threads(int threads) {
  GLASSBOX_CHECK(threads >= 0 && threads <= max_threads(), "threads ", threads, ": expected 0 (one per core) to ",
                 max_threads());
  const int n = threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  set_openblas_threads(1);
  at::set_num_threads(n);
  return n;
}

}  // namespace glassbox
