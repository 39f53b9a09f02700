#include "model-worker.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include "glassbox/evaluate/faithfulness.h"
#include "glassbox/explain/attribution-display.h"
#include "glassbox/explain/explanation.h"
#include "glassbox/util/error.h"

namespace glassbox::serve {
namespace {

double seconds_between(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

void fail(Work& w, int status, const std::string& message) {
  Outcome o;
  o.status = status;
  o.error = message;
  try {
    w.promise.set_value(std::move(o));
  } catch (const std::future_error&) {
    // Already answered before a later step of its batch failed.
  }
}

// An error's one line for a client: ours as they are (they name the field and the value), libtorch's
// cut to its first line, which names the operation without echoing tensors.
std::string first_line(const char* what) {
  std::string s(what);
  const size_t nl = s.find('\n');
  return printable_excerpt(s.substr(0, nl), 300);
}

}  // namespace

ModelWorker::ModelWorker(std::string name, std::shared_ptr<models::Model> model, const ServerOptions& options, Metrics& metrics)
    : name_(std::move(name)), model_(std::move(model)), options_(options), metrics_(metrics) {
  thread_ = std::thread([this] { loop(); });
}

ModelWorker::~ModelWorker() { stop(); }

void ModelWorker::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::future<Outcome> ModelWorker::submit(const std::shared_ptr<Work>& work) {
  std::future<Outcome> answer = work->promise.get_future();
  {
    std::lock_guard<std::mutex> lock(mu_);
    const int64_t depth = depth_.load();
    if (stopping_ || depth + work->inputs() > options_.max_queue()) throw QueueFull{depth};
    queue_.push_back(work);
    depth_ += work->inputs();
  }
  cv_.notify_all();
  return answer;
}

std::vector<std::shared_ptr<Work>> ModelWorker::next_batch() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
  std::vector<std::shared_ptr<Work>> batch;
  if (queue_.empty()) return batch;
  batch.push_back(queue_.front());
  queue_.pop_front();
  int64_t inputs = batch.front()->inputs();
  const std::string key = batch.front()->key;
  if (!key.empty()) {
    // Gather what asks the same question, in arrival order, until the batch is full or the delay is over.
    const Clock::time_point until = Clock::now() + std::chrono::milliseconds(options_.max_delay_ms());
    for (;;) {
      for (auto it = queue_.begin(); it != queue_.end() && inputs < options_.max_batch();) {
        if ((*it)->key == key && inputs + (*it)->inputs() <= options_.max_batch()) {
          inputs += (*it)->inputs();
          batch.push_back(*it);
          it = queue_.erase(it);
        } else {
          ++it;
        }
      }
      if (inputs >= options_.max_batch() || stopping_ || Clock::now() >= until) break;
      cv_.wait_until(lock, until);
    }
  }
  depth_ -= inputs;
  return batch;
}

void ModelWorker::loop() {
  for (;;) {
    std::vector<std::shared_ptr<Work>> batch = next_batch();
    if (batch.empty()) return;
    run(batch);
  }
}

void ModelWorker::run(std::vector<std::shared_ptr<Work>>& batch) {
  // What was abandoned (a client gone, a deadline passed) before it began is dropped.
  const Clock::time_point now = Clock::now();
  std::vector<std::shared_ptr<Work>> live;
  for (auto& w : batch) {
    if (w->abandoned || now >= w->deadline) {
      fail(*w, 504, "the request's deadline passed while it waited (request_timeout_ms " +
                        std::to_string(options_.request_timeout_ms()) + ")");
      continue;
    }
    w->started = true;
    live.push_back(w);
  }
  if (live.empty()) return;
  try {
    run_together(live);
  } catch (const Error& e) {
    // One request's inputs can fail a batch (non-finite logits): alone, each gets its own answer.
    if (live.size() > 1) {
      for (auto& w : live) {
        std::vector<std::shared_ptr<Work>> one{w};
        try {
          run_together(one);
        } catch (const Error& e1) {
          fail(*w, 400, first_line(e1.what()));
        } catch (const std::exception& e1) {
          fail(*w, 500, "the model failed: " + first_line(e1.what()));
        }
      }
      return;
    }
    fail(*live.front(), 400, first_line(e.what()));
  } catch (const std::exception& e) {
    for (auto& w : live) fail(*w, 500, "the model failed: " + first_line(e.what()));
  }
}

void ModelWorker::run_together(std::vector<std::shared_ptr<Work>>& batch) {
  const Task task = batch.front()->question.task;
  if (task == Task::predict) return predict(batch);
  if (task == Task::explain) return explain(batch);
  for (auto& w : batch) morph(*w);
}

void ModelWorker::predict(std::vector<std::shared_ptr<Work>>& batch) {
  const Clock::time_point begun = Clock::now();
  std::vector<at::Tensor> parts;
  for (auto& w : batch) parts.push_back(w->x);
  const at::Tensor x = at::cat(parts).to(model_->device());
  const at::Tensor logits = model_->predict(x);
  GLASSBOX_CHECK(at::isfinite(logits).all().item<bool>(), name_, ": non-finite logits (NaN or Inf) for these inputs");
  const at::Tensor probabilities = at::softmax(logits.to(at::kDouble), 1).to(at::kCPU);
  metrics_.batch(name_, x.size(0));
  const double compute = seconds_between(begun, Clock::now());
  int64_t row = 0;
  for (auto& w : batch) {
    Outcome o;
    o.probabilities = probabilities.narrow(0, row, w->inputs()).clone();
    o.batch_inputs = x.size(0);
    o.queued_seconds = seconds_between(w->arrived, begun);
    o.compute_seconds = compute;
    row += w->inputs();
    w->promise.set_value(std::move(o));
  }
}

void ModelWorker::explain(std::vector<std::shared_ptr<Work>>& batch) {
  const Clock::time_point begun = Clock::now();
  const Question& q = batch.front()->question;
  // One row per input and class asked: an input explained for two classes is two rows.
  std::vector<at::Tensor> parts;
  std::vector<int64_t> source, wanted;
  int64_t inputs = 0;
  for (auto& w : batch) {
    parts.push_back(w->x);
    for (int64_t i = 0; i < w->inputs(); ++i)
      for (int64_t t : w->question.targets) source.push_back(inputs + i), wanted.push_back(t);
    inputs += w->inputs();
  }
  const at::Tensor x = at::cat(parts).index_select(0, at::tensor(source, at::kLong)).to(model_->device());
  const explain::Explanation e = explain::explain_batch(
      *model_, x, *q.method,
      explain::ExplainOptions().attribute(q.attribute).per_sample_targets(at::tensor(wanted, at::kLong)));
  const at::Tensor drawn = explain::attribution_over_input(
      e.attribution_map.defined() ? e.attribution_map : e.attributions, x.to(at::kCPU));
  std::map<std::string, at::Tensor> metrics;
  const evaluate::PixelFlippingOptions po = evaluate::PixelFlippingOptions().steps(q.metric_steps);
  const at::Tensor over = q.metrics.empty() ? at::Tensor() : drawn.to(x.device());
  for (const std::string& m : q.metrics) {
    metrics[m] = (m == "deletion" ? evaluate::deletion(model_->network(), x, e.targets, over, po)
                                  : evaluate::insertion(model_->network(), x, e.targets, over, po))
                     .area.to(at::kCPU);
  }
  metrics_.batch(name_, inputs);
  metrics_.explanations(name_, q.method->name(), x.size(0));
  const double compute = seconds_between(begun, Clock::now());
  const at::Tensor targets = e.targets.to(at::kCPU);
  int64_t row = 0;
  for (auto& w : batch) {
    const int64_t rows = w->inputs() * int64_t(w->question.targets.size());
    Outcome o;
    o.probabilities = e.probabilities.narrow(0, row, rows).slice(0, 0, rows, int64_t(w->question.targets.size())).clone();
    for (int64_t r = row; r < row + rows; ++r) o.targets.push_back(targets[r].item<int64_t>());
    o.attributions = e.attributions.narrow(0, row, rows).clone();
    o.drawn = drawn.narrow(0, row, rows).clone();
    o.layer = e.layer;
    for (const auto& [m, v] : metrics) o.metrics[m] = v.narrow(0, row, rows).clone();
    o.batch_inputs = inputs;
    o.queued_seconds = seconds_between(w->arrived, begun);
    o.compute_seconds = compute;
    row += rows;
    w->promise.set_value(std::move(o));
  }
}

void ModelWorker::morph(Work& w) {
  const Clock::time_point begun = Clock::now();
  Outcome o;
  const at::Tensor x = w.x.to(model_->device());
  o.probabilities = at::softmax(model_->predict(x).to(at::kDouble), 1).to(at::kCPU);
  for (int64_t i = 0; i < w.inputs(); ++i)
    o.trajectories.push_back(explain::morph(model_->network(), model_->spec(), x.narrow(0, i, 1), w.question.morph));
  o.targets.assign(size_t(w.inputs()), w.question.morph.target());
  o.batch_inputs = w.inputs();
  o.queued_seconds = seconds_between(w.arrived, begun);
  o.compute_seconds = seconds_between(begun, Clock::now());
  metrics_.batch(name_, w.inputs());
  w.promise.set_value(std::move(o));
}

}  // namespace glassbox::serve
