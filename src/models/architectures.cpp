#include "glassbox/models/architectures.h"

#include <torch/nn.h>

#include "glassbox/models/backward-rules.h"
#include "glassbox/util/error.h"
#include "rule-application.h"

namespace glassbox::models {
namespace {

// Sees each named layer's output as forward produces it and gives back what the rest of forward reads
// (the output itself, or a replacement: layers(), forward_with_layer, forward_replacing_layer); null in
// training.
using Tap = std::function<at::Tensor(const char* name, const at::Tensor& output)>;

at::Tensor tapped(const Tap* tap, const char* name, at::Tensor t) { return tap ? (*tap)(name, t) : t; }

// The operations forward runs, each with a rule set's backward when one is given (forward_with_rules).
at::Tensor relu(const RuleApplication* r, const at::Tensor& x) { return r ? r->relu(x) : torch::relu(x); }
at::Tensor max_pool(const RuleApplication* r, const at::Tensor& x) { return r ? r->max_pool2d(x, 2) : torch::max_pool2d(x, 2); }
at::Tensor linear(const RuleApplication* r, torch::nn::Linear& l, const at::Tensor& x, bool first) {
  return r ? r->linear(x, l->weight, l->bias, first) : l(x);
}
at::Tensor conv(const RuleApplication* r, torch::nn::Conv2d& c, const at::Tensor& x, bool first) {
  const auto& o = c->options;
  return r ? r->conv2d(x, c->weight, c->bias, *o.stride(), c10::get<torch::ExpandingArray<2>>(o.padding()), first) : c(x);
}

struct LinearNetImpl : torch::nn::Module {
  LinearNetImpl(int64_t in, int64_t classes, bool relu_on_logits)
      : l1(register_module("l1", torch::nn::Linear(in, classes))), relu_on_logits(relu_on_logits) {}
  torch::Tensor forward(const torch::Tensor& x, const Tap* tap, const RuleApplication* r) {
    torch::Tensor logits = tapped(tap, "l1", linear(r, l1, x.flatten(1), true));
    return relu_on_logits ? relu(r, logits) : logits;
  }
  torch::nn::Linear l1;
  bool relu_on_logits;
};

struct MlpImpl : torch::nn::Module {
  MlpImpl(int64_t in, int64_t hidden, int64_t classes)
      : l1(register_module("l1", torch::nn::Linear(in, hidden))),
        l2(register_module("l2", torch::nn::Linear(hidden, classes))) {}
  torch::Tensor forward(const torch::Tensor& x, const Tap* tap, const RuleApplication* r) {
    return tapped(tap, "l2", linear(r, l2, relu(r, tapped(tap, "l1", linear(r, l1, x.flatten(1), true))), false));
  }
  torch::nn::Linear l1, l2;
};

struct CnnImpl : torch::nn::Module {
  CnnImpl(const InputShape& s, int64_t width, int64_t hidden, int64_t classes)
      : conv1(register_module("conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(s.channels, width, 3).padding(1)))),
        conv2(register_module("conv2", torch::nn::Conv2d(torch::nn::Conv2dOptions(width, 2 * width, 3).padding(1)))),
        fc1(register_module("fc1", torch::nn::Linear(2 * width * (s.height / 4) * (s.width / 4), hidden))),
        fc2(register_module("fc2", torch::nn::Linear(hidden, classes))) {}
  torch::Tensor forward(const torch::Tensor& x, const Tap* tap, const RuleApplication* r) {
    torch::Tensor h = max_pool(r, relu(r, tapped(tap, "conv1", conv(r, conv1, x, true))));
    h = max_pool(r, relu(r, tapped(tap, "conv2", conv(r, conv2, h, false))));
    h = relu(r, tapped(tap, "fc1", linear(r, fc1, h.flatten(1), false)));
    return tapped(tap, "fc2", linear(r, fc2, h, false));
  }
  torch::nn::Conv2d conv1, conv2;
  torch::nn::Linear fc1, fc2;
};

}  // namespace

ModuleClassifier::ModuleClassifier(const ModelOptions& options) : options_(options) {
  validate_model_options(options);
  const InputShape& s = options.shape();
  const std::string& arch = options.architecture();
  if (arch == "linear" || arch == "logreg") {
    auto net = std::make_shared<LinearNetImpl>(s.numel(), options.num_classes(), arch == "linear");
    forward_ = [net](const at::Tensor& x, const Tap* tap, const RuleApplication* r) { return net->forward(x, tap, r); };
    module_ = net;
  } else if (arch == "mlp") {
    auto net = std::make_shared<MlpImpl>(s.numel(), options.hidden(), options.num_classes());
    forward_ = [net](const at::Tensor& x, const Tap* tap, const RuleApplication* r) { return net->forward(x, tap, r); };
    module_ = net;
  } else {
    auto net = std::make_shared<CnnImpl>(s, options.conv_channels(), options.hidden(), options.num_classes());
    forward_ = [net](const at::Tensor& x, const Tap* tap, const RuleApplication* r) { return net->forward(x, tap, r); };
    module_ = net;
  }
}

ModuleClassifier::~ModuleClassifier() = default;

at::Tensor ModuleClassifier::forward(const at::Tensor& x) {
  check_input(x);
  return forward_(x, nullptr, nullptr);
}

void ModuleClassifier::check_input(const at::Tensor& x) const {
  const InputShape& s = options_.shape();
  GLASSBOX_CHECK(x.dim() == 4 && x.size(1) == s.channels && x.size(2) == s.height && x.size(3) == s.width,
                 "model ", options_.architecture(), ": input ", x.sizes(), ", expected [B, ", s.channels, ", ",
                 s.height, ", ", s.width, "]");
}

std::vector<LayerInfo> ModuleClassifier::layers() {
  std::vector<LayerInfo> out;
  const Tap tap = [&](const char* name, const at::Tensor& t) {
    out.push_back({name, std::vector<int64_t>(t.sizes().begin() + 1, t.sizes().end()), 1});
    return t;
  };
  const InputShape& s = options_.shape();
  torch::NoGradGuard no_grad;
  const c10::Device device = device_of(*this);
  forward_(at::zeros({1, s.channels, s.height, s.width}, at::TensorOptions().device(device)), &tap, nullptr);
  return out;
}

LayerForward ModuleClassifier::forward_with_layer(const at::Tensor& x, const std::string& layer) {
  check_input(x);
  LayerForward out;
  const Tap tap = [&](const char* name, const at::Tensor& t) {
    if (layer == name) out.activation = t;
    return t;
  };
  out.logits = forward_(x, &tap, nullptr);
  if (!out.activation.defined()) throw_no_such_layer(layer);
  return out;
}

at::Tensor ModuleClassifier::forward_replacing_layer(const at::Tensor& x, const std::string& layer, const at::Tensor& value) {
  check_input(x);
  bool found = false;
  const Tap tap = [&](const char* name, const at::Tensor& t) {
    if (layer != name) return t;
    found = true;
    GLASSBOX_CHECK_PARAM(value.sizes() == t.sizes(), "layer", layer, "replacement ", value.sizes(),
                   ", expected its activation's shape ", t.sizes());
    return value;
  };
  at::Tensor logits = forward_(x, &tap, nullptr);
  if (!found) throw_no_such_layer(layer);
  return logits;
}

at::Tensor ModuleClassifier::forward_with_rules(const at::Tensor& x, const BackwardRules& rules) {
  check_input(x);
  if (!rules.changes_backward()) return forward_(x, nullptr, nullptr);
  const RuleApplication application(rules, x);
  return forward_(x, nullptr, &application);
}

void ModuleClassifier::throw_no_such_layer(const std::string& layer) {
  throw Error::about("layer", layer, "the " + options_.architecture() + " model has no such layer (" +
              layer_names(layers()) + ")");
}

std::vector<at::Tensor> ModuleClassifier::parameters() { return module_->parameters(); }
std::vector<std::pair<std::string, at::Tensor>> ModuleClassifier::named_parameters() {
  std::vector<std::pair<std::string, at::Tensor>> out;
  for (const auto& item : module_->named_parameters(/*recurse=*/true)) out.emplace_back(item.key(), item.value());
  return out;
}
void ModuleClassifier::train(bool on) { module_->train(on); }
bool ModuleClassifier::is_training() const { return module_->is_training(); }
void ModuleClassifier::to(c10::Device device) { module_->to(device); }
torch::nn::Module& ModuleClassifier::module() { return *module_; }

std::unique_ptr<ModuleClassifier> make_model(const ModelOptions& options) {
  return std::make_unique<ModuleClassifier>(options);
}

}  // namespace glassbox::models
