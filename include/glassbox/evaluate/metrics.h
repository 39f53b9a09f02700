// The faithfulness metrics and sanity checks by name, one file each under src/evaluate/metrics, behind
// one interface as the attribution methods are: adding one is its file plus one line in
// src/evaluate/metrics/registry.cpp. Every metric takes a batch, its targets and its attributions (from
// any method, or computed elsewhere), runs every perturbed input through the model in batches of
// EvaluateOptions::perturbations_per_eval on the inputs' device, and returns one number per sample.
#pragma once

#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

#include "glassbox/evaluate/metric-options.h"
#include "glassbox/explain/methods.h"
#include "glassbox/models/classifier.h"

namespace glassbox::evaluate {

struct MetricRequest {
  models::Classifier& model;
  const at::Tensor& x;             // [B, C, H, W], the model's input space
  const at::Tensor& targets;       // [B] int64
  const at::Tensor& attributions;  // for x and targets: like x, or [B, 1, H, W] (CAMs)
  // The method that made them, for the metrics that explain again (sensitivity, the randomisation
  // tests); null when the attributions come from elsewhere.
  const explain::AttributionMethod* method = nullptr;
  const explain::AttributeOptions* attribute = nullptr;  // the method's options (its layer resolved)
  const EvaluateOptions& options;
  // The batch's first sample's index in the whole set: random draws are seeded per sample (seed + index),
  // so that a sample's score does not depend on how the set is cut into batches or ranks.
  int64_t first_sample = 0;
};

// A curve per sample over a common axis.
struct Curve {
  std::string name;        // "deletion", "MoRF", "cascading"
  std::vector<double> x;   // fraction of pixels, percentage, or randomisation step
  at::Tensor y;            // [B, x.size()] double, on the CPU
};

struct MetricResult {
  at::Tensor values;                // [B] double on the CPU: the metric's score for each sample
  std::vector<Curve> curves;        // what the score summarises, where it is a curve
  std::vector<std::string> steps;   // the randomisation tests: the layers randomised at each step
  // The randomisation test: the maps of the first strip_samples samples, original then after each step:
  // [n, steps + 1, H, W] float on the CPU.
  at::Tensor strip;
  // The sanity checks' conclusion (Metric::verdict), filled in by evaluate_methods over every sample.
  std::string verdict;
};

class Metric {
 public:
  virtual ~Metric() = default;
  virtual const char* name() const = 0;  // what --metrics takes
  virtual const char* help() const = 0;  // one line: the definition and whose it is
  // Which way is better: +1 higher, -1 lower, 0 neither (sparseness describes, it does not judge).
  virtual int better() const = 0;
  // Whether it explains again (needs MetricRequest::method).
  virtual bool reexplains() const { return false; }
  virtual MetricResult evaluate(const MetricRequest& request) const = 0;
  // The sanity checks' conclusion over all samples' values ("passes: ...", "fails: ..."); empty for
  // the metrics that only measure.
  virtual std::string verdict(const at::Tensor& /*values*/, const EvaluateOptions& /*options*/) const { return {}; }
};

const std::vector<const Metric*>& metrics();
// Throws glassbox::Error about "metric" listing the names.
const Metric& find_metric(const std::string& name);
std::string metric_names();

}  // namespace glassbox::evaluate
