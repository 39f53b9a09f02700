// What a request asks of a model, apart from its inputs: the task, the method and its options, the
// classes to explain and what to send back, read from the request's "parameters" object. Requests whose
// questions share a batch key are answered in one batch.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "glassbox/explain/attribution-display.h"
#include "glassbox/explain/attribution.h"
#include "glassbox/explain/methods.h"
#include "glassbox/explain/morph.h"
#include "glassbox/models/model.h"

namespace glassbox::serve {

enum class Task { predict, explain, morph };
const char* task_name(Task task);

// Bounds on what one request may make the server compute.
constexpr int64_t kMaxServedSteps = 512;      // n_steps, metric_steps
constexpr int64_t kMaxServedSamples = 256;    // nt_samples
constexpr int64_t kMaxServedMorphSteps = 500;
constexpr size_t kMaxTargets = 10;            // classes explained per input

struct Question {
  Task task = Task::predict;
  const explain::AttributionMethod* method = nullptr;  // explain
  explain::AttributeOptions attribute;
  // The classes each input is explained for, in order: a class index, -1 (its top class) or -2 (its
  // runner-up), as explain::ExplainOptions::per_sample_targets reads them.
  std::vector<int64_t> targets{-1};
  std::vector<std::string> metrics;  // "deletion", "insertion": of each explanation
  int64_t metric_steps = 20;
  // What the answer carries.
  bool attribution = true, overlay = true;
  int64_t top_k = 5;  // the most likely classes listed with their probabilities
  explain::AttributionSign sign = explain::AttributionSign::automatic;
  double alpha = 0.5;  // the overlay's heat map weight
  explain::MorphOptions morph{0};  // its target is set from the parameters

  // What requests must share to be batched together: the task, the method, its options, the metrics.
  std::string batch_key() const;
};

// Reads `parameters` (null: none given) for `task` on `model`. Throws glassbox::Error naming
// "parameters" and the field ("parameters: 'n_steps' is 0, expected 1..512") on anything unknown,
// mistyped or out of range.
Question parse_question(Task task, const nlohmann::json* parameters, const models::Model& model);

// The parameter names parse_question reads, for the page and for errors.
std::vector<std::string> question_parameter_names();

}  // namespace glassbox::serve
