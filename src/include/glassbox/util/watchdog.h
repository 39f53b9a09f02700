// Ending the process when a call does not return in time, for the waits nothing else can stop: c10d's
// store clients waiting on a peer that never answers, and a TorchScript forward that never ends (the
// interpreter has no way to be interrupted). The work cannot be cancelled, only abandoned, so the
// process ends: one line on stderr, exit status 2 (the status of a bad input).
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace glassbox {

class Watchdog {
 public:
  // From now on, unless destroyed within `limit`: prints "glassbox: error: MESSAGE" (control characters
  // escaped) and ends the process with status 2.
  Watchdog(std::string message, std::chrono::milliseconds limit);
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

 private:
  std::mutex mutex_;
  std::condition_variable done_changed_;
  bool done_ = false;
  std::thread thread_;
};

}  // namespace glassbox
