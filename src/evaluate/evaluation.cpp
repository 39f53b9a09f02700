#include "glassbox/evaluate/evaluation.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>
#include <torch/csrc/autograd/grad_mode.h>

#include <cmath>
#include <cstdio>
#include <optional>
#include <set>

#include "glassbox/distributed/world.h"
#include "glassbox/util/error.h"

namespace glassbox::evaluate {

namespace {

// Student's t at 0.975 for 1..30 degrees of freedom; beyond, 1.96 + 2.37 / df is within 0.003.
double t_quantile(int64_t df) {
  static const double table[] = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
                                 2.201,  2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
                                 2.080,  2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042};
  return df <= 30 ? table[df - 1] : 1.959964 + 2.37 / static_cast<double>(df);
}

// A metric's result for rows [begin, end) as one row of doubles each: the value, then every curve's
// points; unpacked by the layout of any one result (every batch's has the same).
at::Tensor pack(const MetricResult& m) {
  std::vector<at::Tensor> parts{m.values.to(at::kDouble).unsqueeze(1)};
  for (const Curve& c : m.curves) parts.push_back(c.y.to(at::kDouble));
  return at::cat(parts, 1);
}

MetricResult unpack(const at::Tensor& rows, const MetricResult& layout) {
  MetricResult out = layout;
  out.values = rows.select(1, 0).contiguous();
  int64_t column = 1;
  for (Curve& c : out.curves) {
    const int64_t n = static_cast<int64_t>(c.x.size());
    c.y = rows.narrow(1, column, n).contiguous();
    column += n;
  }
  return out;
}

// Whether the model's logits depend on its input through autograd: a module that detaches, or runs its
// forward without grad, gives gradient methods nothing but zeros.
bool input_has_gradient(models::Classifier& model, const at::Tensor& x) {
  models::EvalModeGuard eval(model);
  torch::autograd::AutoGradMode grad(true);
  return model.forward(x.slice(0, 0, 1).detach().requires_grad_(true)).requires_grad();
}

}  // namespace

Summary summarise(const at::Tensor& values) {
  Summary s;
  const at::Tensor v = values.to(at::kCPU, at::kDouble).flatten();
  const at::Tensor finite = v.masked_select(at::isfinite(v));
  s.n = finite.numel();
  s.non_finite = v.numel() - s.n;
  if (s.n == 0) {
    s.mean = s.low = s.high = std::nan("");
    return s;
  }
  s.mean = finite.mean().item<double>();
  const double half = s.n > 1 ? t_quantile(s.n - 1) * finite.std().item<double>() / std::sqrt(static_cast<double>(s.n)) : 0.0;
  s.low = s.mean - half, s.high = s.mean + half;
  return s;
}

std::vector<double> mean_curve(const at::Tensor& y) {
  const at::Tensor d = y.to(at::kCPU, at::kDouble);
  const at::Tensor finite = at::isfinite(d);
  const at::Tensor mean = (at::where(finite, d, at::zeros_like(d)).sum(0) / finite.to(at::kDouble).sum(0)).contiguous();
  return std::vector<double>(mean.data_ptr<double>(), mean.data_ptr<double>() + mean.numel());
}

void check_evaluation_request(const std::vector<std::string>& methods, const std::vector<std::string>& metric_list,
                              const EvaluateOptions& options) {
  GLASSBOX_CHECK_PARAM(!methods.empty(), "methods", "(none)", "expected at least one of ", explain::attribution_method_names());
  GLASSBOX_CHECK_PARAM(!metric_list.empty(), "metrics", "(none)", "expected at least one of ", metric_names());
  std::set<std::string> seen;
  for (const std::string& name : methods) {
    const explain::AttributionMethod& m = explain::find_attribution_method(name);
    GLASSBOX_CHECK_PARAM(!m.uses_layer() || m.reads_map(), "methods", name,
                         "attributes to a layer's activation, not to the input's pixels: evaluate takes input methods and CAMs");
    GLASSBOX_CHECK_PARAM(seen.insert(name).second, "methods", name, "expected each method once");
  }
  seen.clear();
  for (const std::string& name : metric_list) {
    find_metric(name);
    GLASSBOX_CHECK_PARAM(seen.insert(name).second, "metrics", name, "expected each metric once");
  }
  check_evaluate_options(options);
}

Evaluation evaluate_methods(const models::Model& model, const at::Tensor& x, const std::vector<std::string>& methods,
                            const std::vector<std::string>& metric_list, const explain::ExplainOptions& explain_options,
                            const EvaluateOptions& options, distributed::Communicator* world) {
  check_evaluation_request(methods, metric_list, options);
  models::Classifier& network = model.network();
  const int64_t B = x.size(0);
  Evaluation out;
  for (const std::string& name : methods) {
    const explain::AttributionMethod& method = explain::find_attribution_method(name);
    auto no_gradient = [&] {
      return Error::about("methods", name, "model " + model.name() + " gives no gradient to its input (its forward detaches or "
                          "runs without grad), so this method has nothing to attribute: expected a model with gradients, or a "
                          "gradient-free method (occlusion, scorecam, ablationcam, reciprocam, eigencam)");
    };
    explain::Explanation e;
    try {
      e = explain::explain_batch(model, x, method, explain_options, world);
    } catch (const c10::Error&) {
      if (input_has_gradient(network, x)) throw;
      throw no_gradient();
    }
    if (!e.attributions.ne(0).any().item<bool>() && !input_has_gradient(network, x)) throw no_gradient();
    if (!out.targets.defined()) out.targets = e.targets.to(at::kCPU), out.probabilities = e.probabilities;
    explain::AttributeOptions attribute = explain_options.attribute();
    if (method.uses_layer()) attribute.layer().layer(e.layer);
    MethodEvaluation me{name, method.uses_layer() ? e.layer : "", e.attributions, {}};
    const at::Tensor attributions = e.attributions.to(x.device());
    for (const std::string& metric_name : metric_list) {
      const Metric& metric = find_metric(metric_name);
      auto run = [&](int64_t begin, int64_t end) {
        const at::Tensor xs = x.slice(0, begin, end), ts = e.targets.slice(0, begin, end), as = attributions.slice(0, begin, end);
        try {
          return metric.evaluate({network, xs, ts, as, &method, &attribute, options, begin});
        } catch (Error& err) {
          throw Error(std::string("method ") + name + ", " + err.what());
        }
      };
      MetricResult result;
      const int64_t W = world ? world->world_size() : 1;
      if (W == 1) {
        result = run(0, B);
      } else {
        std::optional<MetricResult> layout, first;
        const at::Tensor rows = distributed::sharded_rows(*world, B, (B + W - 1) / W, [&](int64_t begin, int64_t end) {
          MetricResult r = run(begin, end);
          if (begin == 0 && !first) first = r;
          layout = r;
          return pack(r);
        }, std::string("metric ") + metric_name);
        result = unpack(rows, *layout);
        result.strip = first ? first->strip : at::Tensor();
      }
      result.verdict = metric.verdict(result.values, options);
      me.metrics.emplace_back(metric_name, std::move(result));
    }
    out.methods.push_back(std::move(me));
  }
  return out;
}

std::string evaluation_table(const Evaluation& ev) {
  if (ev.methods.empty()) return "";
  const auto& first = ev.methods.front().metrics;
  std::vector<std::string> header{"method"};
  for (const auto& [name, r] : first) {
    const int better = find_metric(name).better();
    header.push_back(name + (better > 0 ? " (higher better)" : better < 0 ? " (lower better)" : ""));
  }
  std::vector<std::vector<std::string>> rows{header};
  bool starred = false;
  for (const MethodEvaluation& m : ev.methods) {
    std::vector<std::string> row{m.method};
    for (const auto& [name, r] : m.metrics) {
      const Summary s = summarise(r.values);
      starred = starred || s.non_finite > 0;
      char buf[96];
      if (s.n == 0)
        std::snprintf(buf, sizeof buf, "undefined");
      else
        std::snprintf(buf, sizeof buf, "%.4g [%.4g, %.4g]%s", s.mean, s.low, s.high, s.non_finite ? " *" : "");
      row.push_back(buf);
    }
    rows.push_back(row);
  }
  std::vector<size_t> width(header.size(), 0);
  for (const auto& row : rows)
    for (size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  std::string text;
  for (size_t r = 0; r < rows.size(); ++r) {
    for (size_t c = 0; c < rows[r].size(); ++c)
      text += rows[r][c] + std::string(width[c] - rows[r][c].size() + (c + 1 < rows[r].size() ? 2 : 0), ' ');
    text += "\n";
    if (r == 0) {
      for (size_t c = 0; c < width.size(); ++c) text += std::string(width[c], '-') + (c + 1 < width.size() ? "  " : "");
      text += "\n";
    }
  }
  text += "mean [95 % interval] over " + std::to_string(ev.targets.defined() ? ev.targets.size(0) : 0) + " samples";
  if (starred) text += "; * some samples' values were undefined and are left out";
  text += "\n";
  for (const MethodEvaluation& m : ev.methods)
    for (const auto& [name, r] : m.metrics)
      if (!r.verdict.empty()) text += m.method + " " + name + ": " + r.verdict + "\n";
  return text;
}

std::string evaluation_json(const Evaluation& ev, const std::vector<std::string>& names, const EvaluateOptions& options) {
  auto list = [](const at::Tensor& t) {
    nlohmann::json a = nlohmann::json::array();
    const at::Tensor d = t.to(at::kCPU, at::kDouble).contiguous();
    for (int64_t i = 0; i < d.numel(); ++i) {
      const double v = d.data_ptr<double>()[i];
      a.push_back(std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr));
    }
    return a;
  };
  nlohmann::json j;
  j["samples"] = names;
  j["targets"] = ev.targets.defined() ? list(ev.targets) : nlohmann::json::array();
  j["options"] = {{"steps", options.pixel_flipping().steps()},
                  {"deletion_substitute", substitute_name(options.pixel_flipping().deletion_substitute())},
                  {"insertion_substitute", substitute_name(options.pixel_flipping().insertion_substitute())},
                  {"road_percentages", options.road().percentages()},
                  {"road_noise", options.road().noise()},
                  {"infidelity_n_perturb_samples", options.infidelity().n_perturb_samples()},
                  {"infidelity_stdev", options.infidelity().stdev()},
                  {"sensitivity_n_perturb_samples", options.sensitivity().n_perturb_samples()},
                  {"sensitivity_perturb_radius", options.sensitivity().perturb_radius()},
                  {"randomisation_order", randomisation_order_name(options.randomisation().order())},
                  {"score", options.score() == explain::Score::logit ? "logit"
                            : options.score() == explain::Score::log_softmax ? "log_softmax" : "probability"}};
  nlohmann::json methods = nlohmann::json::array();
  for (const MethodEvaluation& m : ev.methods) {
    nlohmann::json jm = {{"method", m.method}};
    if (!m.layer.empty()) jm["layer"] = m.layer;
    nlohmann::json metrics = nlohmann::json::object();
    for (const auto& [name, r] : m.metrics) {
      const Summary s = summarise(r.values);
      const int better = find_metric(name).better();
      nlohmann::json jr = {{"better", better > 0 ? "higher" : better < 0 ? "lower" : "neither"},
                           {"mean", std::isfinite(s.mean) ? nlohmann::json(s.mean) : nlohmann::json(nullptr)},
                           {"ci95", {std::isfinite(s.low) ? nlohmann::json(s.low) : nlohmann::json(nullptr),
                                     std::isfinite(s.high) ? nlohmann::json(s.high) : nlohmann::json(nullptr)}},
                           {"n", s.n},
                           {"undefined", s.non_finite},
                           {"values", list(r.values)}};
      nlohmann::json curves = nlohmann::json::array();
      for (const Curve& c : r.curves) {
        nlohmann::json per = nlohmann::json::array();
        for (int64_t i = 0; i < c.y.size(0); ++i) per.push_back(list(c.y[i]));
        nlohmann::json mean = nlohmann::json::array();
        for (double v : mean_curve(c.y)) mean.push_back(std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr));
        curves.push_back({{"name", c.name}, {"x", c.x}, {"mean", mean}, {"per_sample", per}});
      }
      if (!curves.empty()) jr["curves"] = curves;
      if (!r.steps.empty()) jr["steps"] = r.steps;
      if (!r.verdict.empty()) jr["verdict"] = r.verdict;
      metrics[name] = jr;
    }
    jm["metrics"] = metrics;
    methods.push_back(jm);
  }
  j["methods"] = methods;
  return j.dump(1) + "\n";
}

}  // namespace glassbox::evaluate
