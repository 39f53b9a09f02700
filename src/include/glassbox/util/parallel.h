// Running independent work items on a few threads (decoding images): the work of item i is done once,
// by one thread; the error of the lowest item that failed is rethrown, so that the message does not
// depend on thread timing.
#pragma once

#include <cstdint>
#include <functional>

namespace glassbox {

void parallel_items(int64_t count, int threads, const std::function<void(int64_t)>& work);

}  // namespace glassbox
