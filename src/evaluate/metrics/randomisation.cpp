// The sanity checks of Adebayo et al. (2018) and Sixt et al. (2020): an explanation that stays the same
// when the model's learned parameters are replaced by random ones (MPRT), or when it is asked about
// another class (random logit), is not telling us about the model. An edge detector passes neither.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "../perturbation.h"
#include "glassbox/evaluate/evaluation.h"
#include "glassbox/evaluate/faithfulness.h"
#include "glassbox/evaluate/metrics.h"
#include "glassbox/util/error.h"

namespace glassbox::evaluate {

namespace {

struct Layer {
  std::string name;  // the module path ("" for parameters of the model itself)
  std::vector<std::pair<std::string, at::Tensor>> parameters;
};

// Named parameters grouped by module, in registration order.
std::vector<Layer> parameter_layers(models::Classifier& model) {
  std::vector<Layer> layers;
  std::map<std::string, size_t> index;
  for (auto& [name, value] : model.named_parameters()) {
    const size_t dot = name.rfind('.');
    const std::string module = dot == std::string::npos ? "" : name.substr(0, dot);
    auto it = index.find(module);
    if (it == index.end()) it = index.emplace(module, layers.size()).first, layers.push_back({module, {}});
    layers[it->second].parameters.emplace_back(name, value);
  }
  return layers;
}

double fan_in_bound(const at::Tensor& weight) {
  const int64_t fan_in = weight.numel() / std::max<int64_t>(1, weight.size(0));
  return 1.0 / std::sqrt(static_cast<double>(std::max<int64_t>(1, fan_in)));
}

// PyTorch's default initialisation where it is defined by the weight's fan-in; U(-1, 1) otherwise
// (metric-options.h).
void randomise(const Layer& layer, at::Generator& generator) {
  double sibling_bound = 1.0;
  for (const auto& [name, p] : layer.parameters)
    if (p.dim() >= 2) sibling_bound = fan_in_bound(p);
  torch::autograd::AutoGradMode no_grad(false);
  for (const auto& [name, p] : layer.parameters) {
    const double bound = p.dim() >= 2 ? fan_in_bound(p) : sibling_bound;
    at::Tensor drawn = at::empty(p.sizes(), at::TensorOptions(at::kFloat)).uniform_(-bound, bound, generator);
    p.copy_(drawn);
  }
}

// Keeps copies of every parameter and puts them back when it goes, also on errors.
class ParameterRestore {
 public:
  explicit ParameterRestore(models::Classifier& model) : params_(model.parameters()) {
    torch::autograd::AutoGradMode no_grad(false);
    for (const at::Tensor& p : params_) saved_.push_back(p.detach().clone());
  }
  void restore() {
    torch::autograd::AutoGradMode no_grad(false);
    for (size_t i = 0; i < params_.size(); ++i) params_[i].copy_(saved_[i]);
  }
  ~ParameterRestore() { restore(); }
  ParameterRestore(const ParameterRestore&) = delete;
  ParameterRestore& operator=(const ParameterRestore&) = delete;

 private:
  std::vector<at::Tensor> params_, saved_;
};

at::Tensor maps_of(const ExplainFunction& explain, const at::Tensor& x, const at::Tensor& targets) {
  return relevance_map(explain(x, targets).detach()).to(at::kCPU);
}

std::string judge(double mean, double pass_below, const char* what, const char* failing) {
  char buf[320];
  if (!std::isfinite(mean))
    std::snprintf(buf, sizeof buf, "undecided: %s is undefined (a constant map)", what);
  else if (mean < pass_below)
    std::snprintf(buf, sizeof buf, "passes: %s %.3f, below %.2f", what, mean, pass_below);
  else
    std::snprintf(buf, sizeof buf, "fails: %s %.3f, not below %.2f: %s", what, mean, pass_below, failing);
  return buf;
}


RandomisationResult random_logit_impl(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets,
                                      const ExplainFunction& explain, const RandomisationOptions& o, int64_t first_sample);

class RandomisationMetric final : public Metric {
 public:
  const char* name() const override { return "mprt"; }
  const char* help() const override {
    return "model-parameter randomisation (Adebayo et al.): rank correlation of |map| with the model's layers randomised, "
           "cascading from the logits (lower is better; passes below pass_below)";
  }
  int better() const override { return -1; }
  bool reexplains() const override { return true; }
  MetricResult evaluate(const MetricRequest& r) const override {
    const ExplainFunction explain = method_explainer(r, "mprt", "explains with the randomised model");
    const RandomisationResult res = model_parameter_randomisation(r.model, r.x, r.targets, explain, r.options.randomisation());
    std::vector<double> axis;
    for (size_t i = 0; i < res.steps.size(); ++i) axis.push_back(static_cast<double>(i + 1));
    return {res.score, {{"Spearman", axis, res.spearman}, {"SSIM", axis, res.ssim}}, res.steps, res.strip, ""};
  }
  std::string verdict(const at::Tensor& values, const EvaluateOptions& o) const override {
    const bool cascading = o.randomisation().order() == RandomisationOrder::cascading;
    return judge(summarise(values).mean, o.randomisation().pass_below(),
                 cascading ? "rank correlation with every layer randomised" : "mean rank correlation over the layers",
                 "the maps barely depend on what the model learned");
  }
};

class RandomLogitMetric final : public Metric {
 public:
  const char* name() const override { return "random_logit"; }
  const char* help() const override {
    return "random-logit test (Sixt et al.): SSIM between the map for the target and for a random other class (lower is better)";
  }
  int better() const override { return -1; }
  bool reexplains() const override { return true; }
  MetricResult evaluate(const MetricRequest& r) const override {
    const ExplainFunction explain = method_explainer(r, "random_logit", "explains another class");
    const RandomisationOptions& o = r.options.randomisation();
    const RandomisationResult res = random_logit_impl(r.model, r.x, r.targets, explain, o, r.first_sample);
    return {res.score, {}, res.steps, {}, ""};
  }
  std::string verdict(const at::Tensor& values, const EvaluateOptions& o) const override {
    return judge(summarise(values).mean, o.randomisation().pass_below(), "SSIM with another class's map",
                 "the map hardly depends on the class asked about");
  }
};

}  // namespace

RandomisationResult model_parameter_randomisation(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets,
                                                  const ExplainFunction& explain, const RandomisationOptions& o) {
  std::vector<Layer> layers = parameter_layers(model);
  GLASSBOX_CHECK(!layers.empty(), "metric mprt: model ", model.name(), " has no parameters to randomise");
  std::reverse(layers.begin(), layers.end());  // from the logits down
  const int64_t L = static_cast<int64_t>(layers.size());
  const int64_t S = o.max_steps() > 0 ? std::min(L, o.max_steps()) : L;
  const at::Tensor original = maps_of(explain, x, targets);
  const int64_t B = x.size(0), keep = std::min(B, o.strip_samples());
  RandomisationResult out;
  std::vector<at::Tensor> rho, structure, strip{original.slice(0, 0, keep)};
  ParameterRestore restore(model);
  for (int64_t s = 0; s < S; ++s) {
    if (o.order() == RandomisationOrder::independent) restore.restore();
    at::Generator g = at::make_generator<at::CPUGeneratorImpl>(o.seed() + static_cast<uint64_t>(s));
    std::string names;
    // Step s takes layers [s L / S, (s + 1) L / S): the layers shared out evenly over the steps.
    for (int64_t l = s * L / S; l < (s + 1) * L / S; ++l) {
      randomise(layers[static_cast<size_t>(l)], g);
      names += (names.empty() ? "" : ", ") + (layers[static_cast<size_t>(l)].name.empty() ? std::string("(model)") : layers[static_cast<size_t>(l)].name);
    }
    out.steps.push_back(names);
    const at::Tensor maps = maps_of(explain, x, targets);
    rho.push_back(spearman(original, maps));
    structure.push_back(ssim(original, maps));
    strip.push_back(maps.slice(0, 0, keep));
  }
  out.spearman = at::stack(rho, 1);
  out.ssim = at::stack(structure, 1);
  out.score = o.order() == RandomisationOrder::cascading ? out.spearman.select(1, out.spearman.size(1) - 1).clone()
                                                          : out.spearman.mean(1);
  out.strip = at::stack(strip, 1);
  out.passed = summarise(out.score).mean < o.pass_below();
  return out;
}

namespace {

RandomisationResult random_logit_impl(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets,
                                      const ExplainFunction& explain, const RandomisationOptions& o, int64_t first_sample) {
  const int64_t K = model.num_classes(), B = x.size(0);
  GLASSBOX_CHECK(K >= 2, "metric random_logit: model ", model.name(), " has ", K, " class; another class is needed");
  const at::Tensor t = targets.to(at::kCPU);
  at::Tensor others = at::empty({B}, at::kLong);
  for (int64_t i = 0; i < B; ++i) {
    at::Generator g = sample_generator(o.seed(), first_sample + i);
    // Uniform over the K - 1 other classes.
    const int64_t draw = at::randint(K - 1, {1}, g, at::TensorOptions(at::kLong)).item<int64_t>();
    others[i] = draw >= t[i].item<int64_t>() ? draw + 1 : draw;
  }
  const at::Tensor original = maps_of(explain, x, targets), other = maps_of(explain, x, others.to(targets.device()));
  RandomisationResult out;
  out.steps = {"another class"};
  out.ssim = ssim(original, other).unsqueeze(1);
  out.spearman = spearman(original, other).unsqueeze(1);
  out.score = out.ssim.select(1, 0).clone();
  out.passed = summarise(out.score).mean < o.pass_below();
  return out;
}

}  // namespace

RandomisationResult random_logit(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets,
                                 const ExplainFunction& explain, const RandomisationOptions& options) {
  return random_logit_impl(model, x, targets, explain, options, 0);
}

const Metric& randomisation_metric() {
  static const RandomisationMetric metric;
  return metric;
}

const Metric& random_logit_metric() {
  static const RandomLogitMetric metric;
  return metric;
}

}  // namespace glassbox::evaluate
