// Thread settings for libtorch (OpenMP intra-op pool) and OpenBLAS.
#pragma once

namespace glassbox {

// Uses `threads` intra-op threads (0 = one per core) and keeps OpenBLAS single-threaded: libtorch
// calls BLAS from inside its own parallel regions, and OpenBLAS's pthread pool on top of OpenMP's
// oversubscribes the cores (measured: the seed's training 3x slower on 2 cores).
// Returns the thread count in effect.
// Throws glassbox::Error for a count outside 0..max_threads().
int configure_threads(int threads);

// The most threads glassbox accepts: four per core (at least 8); more only oversubscribes the cores.
int max_threads();

}  // namespace glassbox
