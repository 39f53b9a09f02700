#include "question.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <set>

#include "glassbox/explain/gradients.h"
#include "glassbox/util/error.h"
#include "glassbox/util/json-fields.h"

namespace glassbox::serve {
namespace {

const std::vector<std::string> kNames = {
    "method", "target", "return", "top_k", "sign", "alpha", "metrics", "metric_steps",
    // the method's options, named as the CLI's flags and Captum's arguments
    "score", "n_steps", "ig_method", "layer", "layer_layout", "prefix_tokens", "relu", "nt_type", "nt_samples",
    "stdevs", "seed", "window", "stride", "baseline", "deeplift_baseline", "n_baselines", "shap_samples", "shap_stdevs",
    "lrp_composite", "lrp_epsilon", "lrp_gamma", "feature_size", "n_samples", "rise_masks", "rise_probability",
    "feature_mask", "n_segments", "compactness", "lime_alpha", "lime_kernel_width",
    // morph
    "steps", "step_size", "norm", "eps", "stop_probability", "engine", "targeted", "random_start"};

double finite_number(const JsonFields& f, const char* key, double lo, double hi) {
  const double v = f.number(key);
  GLASSBOX_CHECK(std::isfinite(v) && v >= lo && v <= hi, f.where(), ": '", key, "' is ", v, ", expected ", lo, "..", hi);
  return v;
}

bool boolean(const JsonFields& f, const char* key) {
  const nlohmann::json& v = f.at(key);
  GLASSBOX_CHECK(v.is_boolean(), f.where(), ": '", key, "' is ", describe_json(v), ", expected true or false");
  return v.get<bool>();
}

// A name one of the library's parsers takes; its error names the field.
template <typename Parse>
auto named(const JsonFields& f, const char* key, Parse parse) {
  const std::string text = f.string(key, 64);
  try {
    return parse(text);
  } catch (const Error& e) {
    throw Error(f.where() + ": '" + key + "' is '" + printable_excerpt(text) + "': " + e.reason());
  }
}

std::vector<int64_t> parse_targets(const JsonFields& f, int64_t classes) {
  const nlohmann::json& v = f.at("target");
  if (v.is_string()) {
    const std::string t = f.string("target", 16);
    if (t == "top") return {-1};
    if (t == "top2") return classes > 1 ? std::vector<int64_t>{-1, -2} : std::vector<int64_t>{-1};
    GLASSBOX_CHECK(false, f.where(), ": 'target' is '", printable_excerpt(t), "', expected top, top2, a class index or a list of them");
  }
  if (v.is_array()) {
    GLASSBOX_CHECK(!v.empty(), f.where(), ": 'target' is an empty list, expected 1 to ", kMaxTargets, " classes");
    return f.integers("target", 0, kMaxTargets, 0, classes - 1);
  }
  return {f.integer("target", 0, classes - 1)};
}

}  // namespace

const char* task_name(Task task) {
  switch (task) {
    case Task::predict: return "predict";
    case Task::explain: return "explain";
    case Task::morph: return "morph";
  }
  return "?";
}

std::vector<std::string> question_parameter_names() { return kNames; }

Question parse_question(Task task, const nlohmann::json* parameters, const models::Model& model) {
  Question q;
  q.task = task;
  static const nlohmann::json kNone = nlohmann::json::object();
  const nlohmann::json& p = parameters != nullptr && !parameters->is_null() ? *parameters : kNone;
  const JsonFields f(p, "parameters");
  const std::set<std::string> known(kNames.begin(), kNames.end());
  for (auto it = p.begin(); it != p.end(); ++it)
    GLASSBOX_CHECK(known.count(it.key()) != 0, "parameters: unknown field '", printable_excerpt(it.key()),
                   "', expected some of: method, target, return, top_k, metrics, n_steps, layer, ... (see the README)");
  const int64_t K = model.num_classes();
  if (f.has("top_k")) q.top_k = f.integer("top_k", 1, K);
  q.top_k = std::min(q.top_k, K);
  if (task == Task::predict) return q;

  if (task == Task::morph) {
    GLASSBOX_CHECK(f.has("target") && f.at("target").is_number_integer(), "parameters: 'target' is ",
                   f.has("target") ? describe_json(f.at("target")) : std::string("missing"),
                   ", expected the class index to morph toward");
    q.morph.target(f.integer("target", 0, K - 1));
    q.targets = {q.morph.target()};
    if (f.has("steps")) q.morph.steps(f.integer("steps", 1, kMaxServedMorphSteps));
    if (f.has("step_size")) q.morph.step_size(finite_number(f, "step_size", 1e-6, 1.0));
    if (f.has("norm")) q.morph.norm(named(f, "norm", explain::parse_morph_norm));
    if (f.has("eps")) q.morph.eps(finite_number(f, "eps", 0, 1e6));
    if (f.has("stop_probability")) q.morph.stop_probability(finite_number(f, "stop_probability", 0, 1));
    if (f.has("score")) q.morph.score(named(f, "score", explain::parse_score));
    if (f.has("engine")) q.morph.engine(named(f, "engine", explain::parse_morph_engine));
    if (f.has("targeted")) q.morph.targeted(boolean(f, "targeted"));
    if (f.has("random_start")) q.morph.random_start(boolean(f, "random_start"));
    if (f.has("seed")) q.morph.seed(static_cast<uint64_t>(f.integer("seed", 0, int64_t(1) << 53)));
    GLASSBOX_CHECK(q.morph.engine() == explain::MorphEngine::gradient || q.morph.eps() > 0,
                   "parameters: 'eps' is ", q.morph.eps(), ", the fgsm and pgd engines need a budget > 0");
    return q;
  }

  const std::string method = f.has("method") ? f.string("method", 64) : "saliency";
  try {
    q.method = &explain::find_attribution_method(method);
  } catch (const Error& e) {
    throw Error("parameters: 'method' is '" + printable_excerpt(method) + "', expected one of " + explain::attribution_method_names());
  }
  if (f.has("target")) q.targets = parse_targets(f, K);
  if (f.has("return")) {
    const std::vector<std::string> r = f.strings("return", 4, 32);
    q.attribution = q.overlay = false;
    for (const std::string& what : r) {
      GLASSBOX_CHECK(what == "attribution" || what == "overlay" || what == "probabilities", "parameters: 'return' holds '",
                     printable_excerpt(what), "', expected some of attribution, overlay, probabilities");
      q.attribution |= what == "attribution";
      q.overlay |= what == "overlay";
    }
  }
  if (f.has("sign")) q.sign = named(f, "sign", explain::parse_attribution_sign);
  if (f.has("alpha")) q.alpha = finite_number(f, "alpha", 0, 1);
  if (f.has("metrics")) {
    q.metrics = f.strings("metrics", 2, 16);
    for (const std::string& m : q.metrics)
      GLASSBOX_CHECK(m == "deletion" || m == "insertion", "parameters: 'metrics' holds '", printable_excerpt(m),
                     "', expected deletion and/or insertion");
  }
  if (f.has("metric_steps")) q.metric_steps = f.integer("metric_steps", 2, kMaxServedSteps);

  explain::AttributeOptions& o = q.attribute;
  if (f.has("score")) o.score(named(f, "score", explain::parse_score));
  if (f.has("n_steps")) o.integrated_gradients().n_steps(f.integer("n_steps", 1, kMaxServedSteps));
  if (f.has("ig_method")) o.integrated_gradients().method(named(f, "ig_method", explain::parse_integration_rule));
  if (o.integrated_gradients().method() == explain::IntegrationRule::riemann_trapezoid)
    GLASSBOX_CHECK(o.integrated_gradients().n_steps() >= 2, "parameters: 'n_steps' is ", o.integrated_gradients().n_steps(),
                   ", riemann_trapezoid needs at least 2");
  if (f.has("layer")) {
    o.layer().layer(f.string("layer", 256));
    GLASSBOX_CHECK(q.method->uses_layer(), "parameters: 'layer' is given, but ", q.method->name(),
                   " works on the input, not on a layer");
  }
  if (f.has("layer_layout")) o.layer().layout(named(f, "layer_layout", explain::parse_layer_layout));
  if (f.has("prefix_tokens")) o.layer().prefix_tokens(f.integer("prefix_tokens", -1, 64));
  if (f.has("relu")) o.layer().relu(boolean(f, "relu"));
  if (f.has("nt_type")) o.noise_tunnel().nt_type(named(f, "nt_type", explain::parse_noise_tunnel_type));
  if (f.has("nt_samples")) o.noise_tunnel().nt_samples(f.integer("nt_samples", 1, kMaxServedSamples));
  if (f.has("stdevs")) o.noise_tunnel().stdevs(finite_number(f, "stdevs", 0, 1e3));
  if (f.has("seed")) o.noise_tunnel().seed(static_cast<uint64_t>(f.integer("seed", 0, int64_t(1) << 53)));
  o.deeplift().seed(o.noise_tunnel().seed());
  if (f.has("deeplift_baseline")) o.deeplift().baseline(finite_number(f, "deeplift_baseline", -1e6, 1e6));
  if (f.has("n_baselines")) o.deeplift().n_baselines(f.integer("n_baselines", 1, 64));
  if (f.has("shap_samples")) o.deeplift().n_samples(f.integer("shap_samples", 1, kMaxServedSamples));
  if (f.has("shap_stdevs")) o.deeplift().stdevs(finite_number(f, "shap_stdevs", 0, 1e3));
  if (f.has("lrp_composite")) o.lrp().composite(named(f, "lrp_composite", explain::parse_lrp_composite));
  if (f.has("lrp_epsilon")) o.lrp().epsilon(finite_number(f, "lrp_epsilon", 1e-12, 1e3));
  if (f.has("lrp_gamma")) o.lrp().gamma(finite_number(f, "lrp_gamma", 0, 1e3));
  o.perturbation().seed(o.noise_tunnel().seed());
  if (f.has("n_samples")) o.perturbation().n_samples(f.integer("n_samples", 1, kMaxServedSamples));
  if (f.has("rise_masks")) o.perturbation().rise_masks(f.integer("rise_masks", 1, 4 * kMaxServedSamples));
  if (f.has("rise_probability")) o.perturbation().rise_probability(finite_number(f, "rise_probability", 1e-6, 1));
  if (f.has("feature_mask")) o.perturbation().feature_mask(named(f, "feature_mask", explain::parse_feature_mask_kind));
  if (f.has("n_segments")) o.perturbation().slic().n_segments(f.integer("n_segments", 1, 4096));
  if (f.has("compactness")) o.perturbation().slic().compactness(finite_number(f, "compactness", 1e-6, 1e6));
  if (f.has("lime_alpha")) o.perturbation().lime_alpha(finite_number(f, "lime_alpha", 0, 1e6));
  if (f.has("lime_kernel_width")) o.perturbation().lime_kernel_width(finite_number(f, "lime_kernel_width", 1e-6, 1e6));
  const auto& shape = model.input_shape();
  const int64_t side = std::max(shape.height, shape.width);
  if (f.has("feature_size")) o.perturbation().feature_size(f.integer("feature_size", 1, side));
  if (f.has("window")) o.occlusion().window_h(f.integer("window", 1, side)).window_w(o.occlusion().window_h());
  if (f.has("stride")) o.occlusion().stride_h(f.integer("stride", 1, side)).stride_w(o.occlusion().stride_h());
  if (f.has("baseline")) {
    o.occlusion().baseline(finite_number(f, "baseline", -1e6, 1e6));
    o.perturbation().baseline(o.occlusion().baseline());
  }
  return q;
}

std::string Question::batch_key() const {
  if (task == Task::predict) return "predict";
  // Morphs run one by one: every request is its own batch. So do methods that read the whole batch
  // (feature permutation exchanges features between its samples): never with another request's.
  if (task == Task::morph || (method && method->reads_batch())) return "";
  const explain::AttributeOptions& o = attribute;
  const auto& ig = o.integrated_gradients();
  const auto& nt = o.noise_tunnel();
  const auto& oc = o.occlusion();
  const auto& l = o.layer();
  nlohmann::json k = {
      {"method", method->name()},
      {"score", int(o.score())},
      {"ig", {ig.n_steps(), int(ig.method())}},
      {"nt", {int(nt.nt_type()), nt.nt_samples(), nt.stdevs(), nt.seed()}},
      {"occlusion", {oc.window_h(), oc.window_w(), oc.stride_h(), oc.stride_w(), oc.baseline()}},
      {"layer", {l.layer(), l.relu(), int(l.layout()), l.prefix_tokens()}},
      {"deeplift", {o.deeplift().baseline(), o.deeplift().n_baselines(), o.deeplift().seed(), o.deeplift().n_samples(), o.deeplift().stdevs()}},
      {"lrp", {int(o.lrp().composite()), o.lrp().epsilon(), o.lrp().gamma()}},
      {"perturbation", {int(o.perturbation().feature_mask()), o.perturbation().feature_size(), o.perturbation().slic().n_segments(),
                        o.perturbation().slic().compactness(), o.perturbation().n_samples(), o.perturbation().rise_masks(),
                        o.perturbation().rise_probability(), o.perturbation().lime_alpha(),
                        o.perturbation().lime_kernel_width(), o.perturbation().seed()}},
      {"metrics", metrics},
      {"metric_steps", metric_steps},
  };
  return k.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace glassbox::serve
