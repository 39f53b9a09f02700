#include "glassbox/util/watchdog.h"

#include <cstdio>
#include <cstdlib>

#include "glassbox/util/terminal-text.h"

namespace glassbox {

Watchdog::Watchdog(std::string message, std::chrono::milliseconds limit)
    : thread_([this, message = std::move(message), limit] {
        std::unique_lock<std::mutex> lock(mutex_);
        if (!done_changed_.wait_for(lock, limit, [this] { return done_; })) {
          std::fprintf(stderr, "glassbox: error: %s\n", terminal_text(message).c_str());
          std::fflush(stderr);
          std::_Exit(2);
        }
      }) {}

Watchdog::~Watchdog() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    done_ = true;
  }
  done_changed_.notify_all();
  thread_.join();
}

}  // namespace glassbox
