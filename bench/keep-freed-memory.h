// Keep freed memory in the benchmark's process. By default glibc hands large blocks back to the kernel
// and faults them in again on the next batch; on a virtual machine those page faults cost more than the
// arithmetic and switch on and off with the allocator's adaptive threshold, so that the same run measured
// 2x apart from one minute to the next. Floors and methods share the setting, so ratios stay fair.
#pragma once

#ifdef __GLIBC__
#include <malloc.h>
#endif

namespace glassbox::bench {

inline void keep_freed_memory() {
#ifdef __GLIBC__
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
}

}  // namespace glassbox::bench
