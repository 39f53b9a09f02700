// The callbacks' logging thread: the training thread hands over detached tensors, and drawing,
// encoding and writing happen here, behind a bounded queue. Memory stays bounded; nothing is lost
// unless dropping was asked for; flush() (called at the end of fit) waits for everything.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace glassbox::callbacks {

class DrawingQueue {
 public:
  explicit DrawingQueue(size_t max_pending = 16, bool drop_when_full = false);
  ~DrawingQueue();  // finishes every queued job
  DrawingQueue(const DrawingQueue&) = delete;
  DrawingQueue& operator=(const DrawingQueue&) = delete;

  // Queues a job; blocks while the queue is full (or drops it and counts, if asked).
  void push(std::function<void()> job);
  // Waits until every job queued so far has run. Rethrows the first error a job raised.
  void flush();

  uint64_t dropped() const;
  uint64_t done() const;

 private:
  void run();
  size_t max_pending_;
  bool drop_when_full_;
  mutable std::mutex mutex_;
  std::condition_variable work_, space_, idle_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  bool busy_ = false;
  uint64_t dropped_ = 0, done_ = 0;
  std::string error_;
  std::thread worker_;
};

}  // namespace glassbox::callbacks
