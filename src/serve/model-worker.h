// One model's worker: the only thread that runs the model. Requests queue here; those that ask the same
// question (Question::batch_key) are gathered into one batch of up to max_batch inputs, waiting at most
// max_delay_ms after the first, run as one pass, and split back into their answers.
#pragma once

#include <ATen/core/Tensor.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "glassbox/explain/morph.h"
#include "glassbox/models/model.h"
#include "glassbox/serve/server-options.h"
#include "prometheus.h"
#include "question.h"

namespace glassbox::serve {

using Clock = std::chrono::steady_clock;

// What the worker sends back for one request.
struct Outcome {
  int status = 200;     // 200, or the HTTP status of the error
  std::string error;    // one line, when status is not 200
  at::Tensor probabilities;       // [n, K] double, CPU
  std::vector<int64_t> targets;   // [n * T] the classes explained, input-major
  at::Tensor attributions;        // [n * T, ...] the method's output, CPU
  at::Tensor drawn;               // [n * T, C', h, w] what the overlay draws (a layer method's map), CPU
  std::string layer;              // a layer method's layer
  std::map<std::string, at::Tensor> metrics;  // [n * T] per metric
  std::vector<explain::MorphTrajectory> trajectories;  // morph: one per input
  int64_t batch_inputs = 0;       // inputs in the batch it ran in
  double queued_seconds = 0, compute_seconds = 0;
};

struct Work {
  Question question;
  std::string key;       // question.batch_key()
  at::Tensor x;          // [n, C, H, W] the model's inputs, CPU
  Clock::time_point arrived, deadline;
  std::atomic<bool> abandoned{false};  // the client is gone or its deadline passed: skip if not begun
  std::atomic<bool> started{false};
  std::promise<Outcome> promise;

  int64_t inputs() const { return x.size(0); }
};

// Thrown by submit when the queue is full: answered 503 with Retry-After.
struct QueueFull {
  int64_t depth;
};

class ModelWorker {
 public:
  ModelWorker(std::string name, std::shared_ptr<models::Model> model, const ServerOptions& options, Metrics& metrics);
  ~ModelWorker();

  const std::string& name() const { return name_; }
  const models::Model& model() const { return *model_; }

  // Queues `work` (throws QueueFull past max_queue inputs) and returns when its answer will come.
  std::future<Outcome> submit(const std::shared_ptr<Work>& work);
  // Inputs waiting.
  int64_t depth() const { return depth_.load(); }
  // Finishes what is queued, then ends the thread.
  void stop();

 private:
  void loop();
  std::vector<std::shared_ptr<Work>> next_batch();
  void run(std::vector<std::shared_ptr<Work>>& batch);
  void run_together(std::vector<std::shared_ptr<Work>>& batch);
  void predict(std::vector<std::shared_ptr<Work>>& batch);
  void explain(std::vector<std::shared_ptr<Work>>& batch);
  void morph(Work& work);

  std::string name_;
  std::shared_ptr<models::Model> model_;
  ServerOptions options_;
  Metrics& metrics_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Work>> queue_;
  std::atomic<int64_t> depth_{0};
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace glassbox::serve
