#include "glassbox/callbacks/drawing-queue.h"

#include <exception>

#include "glassbox/util/error.h"

namespace glassbox::callbacks {

DrawingQueue::DrawingQueue(size_t max_pending) : max_pending_(std::max<size_t>(1, max_pending)), worker_([this] { run(); }) {}

DrawingQueue::~DrawingQueue() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  work_.notify_all();
  worker_.join();
}

void DrawingQueue::push(std::function<void()> job) {
  std::unique_lock<std::mutex> lock(mutex_);
  space_.wait(lock, [&] { return jobs_.size() < max_pending_; });
  jobs_.push_back(std::move(job));
  work_.notify_one();
}

void DrawingQueue::flush() {
  std::unique_lock<std::mutex> lock(mutex_);
  idle_.wait(lock, [&] { return jobs_.empty() && !busy_; });
  if (!error_.empty()) {
    const std::string e = error_;
    error_.clear();
    throw Error(e);
  }
}

void DrawingQueue::run() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    work_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
    if (jobs_.empty()) break;  // stopping, and everything done
    std::function<void()> job = std::move(jobs_.front());
    jobs_.pop_front();
    busy_ = true;
    space_.notify_one();
    lock.unlock();
    std::string failure;
    try {
      job();
    } catch (const std::exception& e) {
      failure = e.what();
    }
    lock.lock();
    busy_ = false;
    if (!failure.empty() && error_.empty()) error_ = failure;
    if (jobs_.empty()) idle_.notify_all();
  }
  idle_.notify_all();
}

}  // namespace glassbox::callbacks
