// Thread settings for libtorch (OpenMP intra-op pool) and OpenBLAS.
#pragma once

namespace glassbox {

// Uses `threads` intra-op threads (0 = one per core) and keeps OpenBLAS single-threaded: libtorch
// calls BLAS from inside its own parallel regions, and OpenBLAS's pthread pool on top of OpenMP's
// oversubscribes the cores (measured: the seed's training 3x slower on 2 cores).
// Returns the thread count in effect.
int configure_threads(int threads);

}  // namespace glassbox
