// Methods x metrics on one batch: each method explains the batch (explain_batch: the same targets and
// default layers as glassbox explain), each metric scores every method's attributions, spread over ranks
// by samples when a world is given. What glassbox evaluate, the training callback and a program asking
// "which explanation can I trust on this model" call; the table, JSON and figures are drawn from it.
#pragma once

#include <ATen/core/Tensor.h>

#include <string>
#include <utility>
#include <vector>

#include "glassbox/distributed/communicator.h"
#include "glassbox/evaluate/metrics.h"
#include "glassbox/explain/explanation.h"
#include "glassbox/models/model.h"

namespace glassbox::evaluate {

struct MethodEvaluation {
  std::string method;
  std::string layer;         // the layer a CAM read (empty for input methods)
  at::Tensor attributions;   // on the CPU
  std::vector<std::pair<std::string, MetricResult>> metrics;  // in the order asked
};

struct Evaluation {
  at::Tensor targets;        // [B] the classes explained, on the CPU
  at::Tensor probabilities;  // [B, K] on the CPU
  std::vector<MethodEvaluation> methods;
};

// A metric's values over the samples: the mean and its 95 % confidence interval (Student's t with n - 1
// degrees of freedom; the interval is the mean itself for one sample). Non-finite values are counted
// apart and left out.
struct Summary {
  double mean = 0, low = 0, high = 0;
  int64_t n = 0, non_finite = 0;
};
Summary summarise(const at::Tensor& values);
// A curve's mean over the samples, point by point, over the samples where that point is finite.
std::vector<double> mean_curve(const at::Tensor& y);

// Checks method and metric names, that each method attributes to the input or draws a map over it (a
// CAM), that the metrics that explain again can, and every option: before any work or any file.
void check_evaluation_request(const std::vector<std::string>& methods, const std::vector<std::string>& metrics,
                              const EvaluateOptions& options);

// Every rank calls it with the same arguments; every rank gets the whole evaluation.
Evaluation evaluate_methods(const models::Model& model, const at::Tensor& x, const std::vector<std::string>& methods,
                            const std::vector<std::string>& metrics, const explain::ExplainOptions& explain_options,
                            const EvaluateOptions& options, distributed::Communicator* world = nullptr);

// The table, methods x metrics, "mean [low, high]" with each metric's direction in its header.
std::string evaluation_table(const Evaluation& evaluation);
// Everything as JSON: per method and metric the summary, the values per sample, the curves (mean and
// per sample), the randomisation steps and verdict. `names` names the samples.
std::string evaluation_json(const Evaluation& evaluation, const std::vector<std::string>& names,
                            const EvaluateOptions& options);
// The mean curves of every curve-shaped metric, one panel per curve, one line per method (PNG); empty
// when no metric has a curve.
std::string render_evaluation_curves(const Evaluation& evaluation, const std::string& title = "");
// The randomisation test's maps: per method and sample a row, the original then each step (PNG); empty
// when the test was not run.
std::string render_randomisation_strip(const Evaluation& evaluation, const at::Tensor& images);

}  // namespace glassbox::evaluate
