#include "prometheus.h"

#include <fmt/format.h>

namespace glassbox::serve {
namespace {

const std::vector<double> kLatencyBounds = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
const std::vector<double> kBatchBounds = {1, 2, 4, 8, 16, 32, 64, 128};

std::string number(double v) { return fmt::format("{}", v); }

}  // namespace

std::string label_value(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

void Histogram::observe(double value) {
  for (size_t i = 0; i < bounds_.size(); ++i)
    if (value <= bounds_[i]) {
      ++counts_[i];
      break;
    }
  sum_ += value;
  ++count_;
}

void Histogram::write(std::string& out, const std::string& name, const std::string& labels) const {
  const std::string sep = labels.empty() ? "" : ",";
  uint64_t cumulative = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    cumulative += counts_[i];
    out += fmt::format("{}_bucket{{{}{}le=\"{}\"}} {}\n", name, labels, sep, number(bounds_[i]), cumulative);
  }
  out += fmt::format("{}_bucket{{{}{}le=\"+Inf\"}} {}\n", name, labels, sep, count_);
  const std::string braces = labels.empty() ? "" : "{" + labels + "}";
  out += fmt::format("{}_sum{} {}\n{}_count{} {}\n", name, braces, number(sum_), name, braces, count_);
}

void Metrics::request(const std::string& route, int status) {
  std::lock_guard<std::mutex> lock(mu_);
  ++requests_[{route, status}];
}

void Metrics::latency(const std::string& model, const std::string& method, double seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  latency_.try_emplace({model, method}, kLatencyBounds).first->second.observe(seconds);
}

void Metrics::explanations(const std::string& model, const std::string& method, int64_t count) {
  std::lock_guard<std::mutex> lock(mu_);
  explanations_[{model, method}] += static_cast<uint64_t>(count);
}

void Metrics::batch(const std::string& model, int64_t size) {
  std::lock_guard<std::mutex> lock(mu_);
  batch_.try_emplace(model, kBatchBounds).first->second.observe(static_cast<double>(size));
}

void Metrics::gauge(const std::string& name, const std::string& help,
                    std::function<std::vector<std::pair<std::string, double>>()> read) {
  std::lock_guard<std::mutex> lock(mu_);
  gauges_.push_back({name, help, std::move(read)});
}

std::string Metrics::text() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  out += "# HELP glassbox_requests_total HTTP requests answered, by route pattern and status code.\n"
         "# TYPE glassbox_requests_total counter\n";
  for (const auto& [key, n] : requests_)
    out += fmt::format("glassbox_requests_total{{route=\"{}\",code=\"{}\"}} {}\n", label_value(key.first), key.second, n);
  out += "# HELP glassbox_explanations_total Explanations computed (one per input and class explained).\n"
         "# TYPE glassbox_explanations_total counter\n";
  for (const auto& [key, n] : explanations_)
    out += fmt::format("glassbox_explanations_total{{model=\"{}\",method=\"{}\"}} {}\n", label_value(key.first),
                       label_value(key.second), n);
  out += "# HELP glassbox_request_duration_seconds Time from a request's arrival to its answer, by model and method.\n"
         "# TYPE glassbox_request_duration_seconds histogram\n";
  for (const auto& [key, h] : latency_)
    h.write(out, "glassbox_request_duration_seconds",
            fmt::format("model=\"{}\",method=\"{}\"", label_value(key.first), label_value(key.second)));
  out += "# HELP glassbox_batch_size Inputs per batch a model's worker ran.\n"
         "# TYPE glassbox_batch_size histogram\n";
  for (const auto& [model, h] : batch_) h.write(out, "glassbox_batch_size", fmt::format("model=\"{}\"", label_value(model)));
  for (const Gauge& g : gauges_) {
    out += fmt::format("# HELP {} {}\n# TYPE {} gauge\n", g.name, g.help, g.name);
    for (const auto& [labels, v] : g.read())
      out += fmt::format("{}{} {}\n", g.name, labels.empty() ? "" : "{" + labels + "}", number(v));
  }
  return out;
}

}  // namespace glassbox::serve
