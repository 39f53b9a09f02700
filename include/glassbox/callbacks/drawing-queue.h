// The callbacks' logging thread: the training thread hands over detached tensors, and drawing,
// encoding and writing happen here, behind a bounded queue. Memory stays bounded and nothing is lost:
// push() waits while the queue is full; flush() (called at the end of fit) waits for everything.
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
  explicit DrawingQueue(size_t max_pending = 16);
  ~DrawingQueue();  // finishes every queued job
  DrawingQueue(const DrawingQueue&) = delete;
  DrawingQueue& operator=(const DrawingQueue&) = delete;

  // Queues a job; blocks while the queue is full.
  void push(std::function<void()> job);
  // Waits until every job queued so far has run. Rethrows the first error a job raised.
  void flush();

 private:
  void run();
  size_t max_pending_;
  std::mutex mutex_;
  std::condition_variable work_, space_, idle_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  bool busy_ = false;
  std::string error_;
  std::thread worker_;
};

}  // namespace glassbox::callbacks
