// The server's counters in Prometheus's text exposition format (version 0.0.4): requests by route and
// status, explanations by model and method (explanations/s is their rate), latency histograms per
// method, batch sizes and queue depths per model. Written by hand: a few counters and histograms under
// one lock do not call for a client library, and Debian packages none for C++.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace glassbox::serve {

class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)), counts_(bounds_.size(), 0) {}
  void observe(double value);
  // The _bucket, _sum and _count lines of `name` with `labels` ("model=\"m\"", may be empty).
  void write(std::string& out, const std::string& name, const std::string& labels) const;

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;  // per bound, not cumulative
  double sum_ = 0;
  uint64_t count_ = 0;
};

class Metrics {
 public:
  // `route` is the route's pattern ("/v1/models/{m}:explain"), never the request's path.
  void request(const std::string& route, int status);
  // One answered predict, explain or morph request: its method ("predict" for predictions) and seconds.
  void latency(const std::string& model, const std::string& method, double seconds);
  void explanations(const std::string& model, const std::string& method, int64_t count);
  void batch(const std::string& model, int64_t size);
  // Gauges read when scraped.
  void gauge(const std::string& name, const std::string& help, std::function<std::vector<std::pair<std::string, double>>()> read);

  std::string text() const;

 private:
  struct Gauge {
    std::string name, help;
    std::function<std::vector<std::pair<std::string, double>>()> read;
  };
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  std::map<std::pair<std::string, std::string>, uint64_t> explanations_;
  std::map<std::pair<std::string, std::string>, Histogram> latency_;
  std::map<std::string, Histogram> batch_;
  std::vector<Gauge> gauges_;
};

// A label value escaped as the format asks (backslash, quote, newline).
std::string label_value(const std::string& value);

}  // namespace glassbox::serve
