#include "torchscript-rules.h"

#include <torch/csrc/jit/api/function_impl.h>
#include <torch/csrc/jit/ir/constants.h>
#include <torch/csrc/jit/ir/ir.h>
#include <torch/csrc/jit/passes/inliner.h>
#include <torch/csrc/jit/runtime/graph_executor.h>

#include <set>
#include <unordered_set>

#include "glassbox/util/error.h"
#include "torchscript-graph.h"
#include "rule-application.h"
#include "rule-operators.h"

namespace glassbox::models {
namespace {

using torch::jit::Block;
using torch::jit::Graph;
using torch::jit::NamedValue;
using torch::jit::Node;
using torch::jit::Value;
namespace aten = c10::aten;
namespace prim = c10::prim;

// Whether a value can carry the input's data (tensors and containers of them; not sizes or flags).
bool can_carry_tensors(Value* v) {
  switch (v->type()->kind()) {
    case c10::TypeKind::TensorType:
    case c10::TypeKind::TupleType:
    case c10::TypeKind::OptionalType:
    case c10::TypeKind::DictType:
      return true;
    case c10::TypeKind::ListType: {
      const auto element = v->type()->expectRef<c10::ListType>().getElementType()->kind();
      return element != c10::TypeKind::IntType && element != c10::TypeKind::FloatType && element != c10::TypeKind::BoolType;
    }
    default:
      return false;
  }
}

// The values that depend on the graph's input x, through any operation (and into loops and branches).
void mark_dependent(Block* block, std::unordered_set<Value*>& dep) {
  for (Node* n : block->nodes()) {
    bool any = false;
    for (Value* in : n->inputs()) any = any || dep.count(in);
    for (Block* sub : n->blocks()) {
      if (any)
        for (Value* in : sub->inputs())
          if (can_carry_tensors(in)) dep.insert(in);
      mark_dependent(sub, dep);
      for (Value* out : sub->outputs()) any = any || dep.count(out);
    }
    if (any)
      for (Value* out : n->outputs())
        if (can_carry_tensors(out)) dep.insert(out);
  }
}

// Operations whose gradient every rule set keeps: they move, select, pool by averaging, or scale the
// input's values linearly, or compute something that is not differentiated (sizes, comparisons).
const std::set<std::string>& structural_operations() {
  static const std::set<std::string> names = {
      "aten::view", "aten::reshape", "aten::flatten", "aten::permute", "aten::transpose", "aten::t", "aten::contiguous",
      "aten::clone", "aten::dropout", "aten::dropout_", "aten::feature_dropout", "aten::alpha_dropout", "aten::select",
      "aten::slice", "aten::squeeze", "aten::unsqueeze", "aten::cat", "aten::concat", "aten::stack", "aten::chunk",
      "aten::split", "aten::unbind", "aten::expand", "aten::expand_as", "aten::size", "aten::dim", "aten::numel",
      "aten::avg_pool1d", "aten::avg_pool2d", "aten::avg_pool3d", "aten::adaptive_avg_pool1d",
      "aten::adaptive_avg_pool2d", "aten::adaptive_avg_pool3d", "aten::mean", "aten::sum", "aten::pad",
      "aten::constant_pad_nd", "aten::to", "aten::type_as", "aten::__getitem__", "aten::len", "aten::Int",
      "aten::Float", "aten::ScalarImplicit", "aten::narrow", "aten::flip", "aten::roll", "aten::repeat", "aten::tile",
      "aten::pixel_shuffle", "aten::upsample_nearest2d", "aten::upsample_bilinear2d", "aten::neg", "aten::eq",
      "aten::ne", "aten::lt", "aten::le", "aten::gt", "aten::ge", "aten::__is__", "aten::__isnot__", "aten::detach",
      "aten::zeros_like", "aten::ones_like", "aten::empty_like", "aten::format", "aten::warn", "aten::append",
      "aten::list", "aten::index_select", "aten::movedim", "aten::unflatten", "aten::broadcast_to"};
  return names;
}

bool is_structural(Node* n) {
  if (n->kind().is_prim()) return n->kind() != prim::CallMethod && n->kind() != prim::CallFunction;
  return structural_operations().count(n->kind().toQualString()) > 0;
}

const std::map<std::string, rule_ops::Activation>& activations() {
  using A = rule_ops::Activation;
  static const std::map<std::string, A> kinds = {
      {"aten::relu", A::relu},         {"aten::relu_", A::relu},       {"aten::relu6", A::hardtanh},
      {"aten::hardtanh", A::hardtanh}, {"aten::hardtanh_", A::hardtanh}, {"aten::leaky_relu", A::leaky_relu},
      {"aten::leaky_relu_", A::leaky_relu}, {"aten::elu", A::elu},     {"aten::elu_", A::elu},
      {"aten::gelu", A::gelu},         {"aten::silu", A::silu},        {"aten::silu_", A::silu},
      {"aten::sigmoid", A::sigmoid},   {"aten::sigmoid_", A::sigmoid}, {"aten::tanh", A::tanh},
      {"aten::tanh_", A::tanh},        {"aten::softplus", A::softplus}};
  return kinds;
}

bool is_in_place(Node* n) {
  const std::string name = n->kind().toUnqualString();
  return !name.empty() && name.back() == '_';
}

// Where an operation is, for errors: its source line when the file kept one, else its module scope.
std::string where(Node* n) {
  const auto location = n->sourceRange().file_line_col();
  if (location) return std::get<0>(*location) + ":" + std::to_string(std::get<1>(*location));
  if (n->scope() && !n->scope()->isBlank()) return n->scope()->namesFromRoot(".");
  return "forward";
}

[[noreturn]] void uncovered(const BackwardRules& rules, Node* n, const std::string& why) {
  throw Error::about("method", rules.method(), std::string("the model's ") + n->kind().toQualString() + " (at " +
                                                   printable_excerpt(where(n), 120) + ") " + why +
                                                   "; glassbox explains which operations each method covers in backward-rules.h");
}

double constant_number(const BackwardRules& rules, Node* n, size_t i, double fallback) {
  if (i >= n->inputs().size()) return fallback;
  const auto v = torch::jit::toIValue(n->input(i));
  if (!v) uncovered(rules, n, "has a parameter computed at run time, which the rules need as a constant");
  if (v->isNone()) return fallback;
  if (v->isString()) return v->toStringRef() == "tanh" ? 1 : 0;  // gelu's approximation
  return v->toScalar().toDouble();
}

// The activation's kind and parameters (a, b) as rule_ops::activation takes them.
void activation_parameters(const BackwardRules& rules, Node* n, rule_ops::Activation kind, double& a, double& b) {
  using A = rule_ops::Activation;
  a = b = 0;
  const std::string name = n->kind().toUnqualString();
  switch (kind) {
    case A::hardtanh:
      if (name == "relu6") {
        a = 0, b = 6;
      } else {
        a = constant_number(rules, n, 1, -1), b = constant_number(rules, n, 2, 1);
      }
      break;
    case A::leaky_relu: a = constant_number(rules, n, 1, 0.01); break;
    case A::elu:
      a = constant_number(rules, n, 1, 1);
      if (constant_number(rules, n, 2, 1) != 1 || constant_number(rules, n, 3, 1) != 1)
        uncovered(rules, n, "is scaled (SELU-like), which the rules do not cover");
      break;
    case A::gelu: a = constant_number(rules, n, 1, 0); break;
    case A::softplus: a = constant_number(rules, n, 1, 1), b = constant_number(rules, n, 2, 20); break;
    default: break;
  }
}

bool is_conv2d(Node* n) {
  if (n->kind() == aten::conv2d) return n->inputs().size() == 7 && n->input(4)->type()->kind() == c10::TypeKind::ListType;
  if (n->kind() == aten::_convolution) {
    const auto transposed = torch::jit::toIValue(n->input(6));
    return transposed && transposed->isBool() && !transposed->toBool();
  }
  return false;
}

// Replaces n's one output by `replacement` (input-dependent, as n's output was); an in-place operation's
// later readers of its input read it too.
void replace_output(Node* n, Value* replacement, std::unordered_set<Value*>& dep) {
  replacement->setType(n->output()->type());
  dep.insert(replacement);
  Value* input = n->input(0);
  n->output()->replaceAllUsesWith(replacement);
  if (is_in_place(n)) input->replaceAllUsesDominatedByNodeWith(n, replacement);
  n->destroy();
}

c10::Symbol op(const char* name) { return c10::Symbol::fromQualString(std::string("glassbox::") + name); }

// Moves the nodes that read `v` from the module (attribute reads and constants) before `before`, so that a
// computation inserted there can use it; false when `v` comes from anything else.
bool hoist(Value* v, Node* before) {
  Node* n = v->node();
  if (n->kind() == prim::Param || n->isBefore(before)) return true;
  if (n->kind() != prim::GetAttr && n->kind() != prim::Constant) return false;
  if (n->owningBlock() != before->owningBlock()) return false;
  for (Value* in : n->inputs())
    if (!hoist(in, before)) return false;
  n->moveBefore(before);
  return true;
}

// LRP's canonizer: a batch norm right after a convolution or linear layer (its only reader) is merged into
// that layer's weight and bias, computed in the graph from the modules' own tensors.
void merge_batch_norms(Graph& g, const BackwardRules& rules) {
  std::vector<Node*> nodes;
  collect_nodes(g.block(), nodes);
  for (Node* bn : nodes) {
    if (bn->kind() != aten::batch_norm) continue;
    Node* layer = bn->input(0)->node();
    // Its only reader that takes its values (a scripted BatchNorm also asks its input's dim()).
    bool only_reader = true;
    for (const torch::jit::Use& use : layer->output()->uses())
      if (use.user != bn)
        for (Value* out : use.user->outputs()) only_reader = only_reader && !can_carry_tensors(out);
    const bool mergeable = (is_conv2d(layer) || layer->kind() == aten::linear) && only_reader;
    if (!mergeable)
      uncovered(rules, bn, "does not follow a convolution or linear layer it could be merged into, and LRP has no rule for it");
    for (size_t i : {1, 2, 3, 4, 7})
      if (!hoist(bn->input(i), layer))
        uncovered(rules, bn, "has parameters that are not the module's own, so it cannot be merged into its layer");
    torch::jit::WithInsertPoint here(layer);
    Value* merged = g.insert(op("merge_batch_norm"), {layer->input(1), layer->input(2), bn->input(1), bn->input(2),
                                                      bn->input(3), bn->input(4), bn->input(7)});
    Node* unpack = g.insertNode(g.createTupleUnpack(merged));
    layer->replaceInput(1, unpack->output(0));
    layer->replaceInput(2, unpack->output(1));
    bn->output()->replaceAllUsesWith(layer->output());
    bn->destroy();
  }
}

struct GraphInputs {
  Value *low, *high, *epsilon, *gamma;
};

// Rewrites every input-dependent operation of g under `rules`, or throws naming the first not covered.
void apply_rules(Graph& g, const BackwardRules& rules, const GraphInputs& in) {
  if (rules.relevance()) merge_batch_norms(g, rules);
  std::unordered_set<Value*> dep{g.inputs()[1]};
  mark_dependent(g.block(), dep);
  std::vector<Node*> nodes;
  collect_nodes(g.block(), nodes);
  const bool strict = rules.activation() == ActivationRule::rescale || rules.relevance();
  bool first_layer_seen = false;
  for (Node* n : nodes) {
    int dependent_tensors = 0;
    for (Value* v : n->inputs()) dependent_tensors += dep.count(v) && v->type()->kind() == c10::TypeKind::TensorType;
    bool any = false;
    for (Value* v : n->inputs()) any = any || dep.count(v);
    if (!any) continue;
    if (n->kind() == prim::CallMethod || n->kind() == prim::CallFunction)
      uncovered(rules, n, "is a call glassbox cannot see into");
    torch::jit::WithInsertPoint here(n);
    const std::string name = n->kind().toQualString();
    if (const auto a = activations().find(name); a != activations().end()) {
      if (rules.activation() == ActivationRule::gradient) continue;
      double pa = 0, pb = 0;
      activation_parameters(rules, n, a->second, pa, pb);
      const bool relu_like = a->second == rule_ops::Activation::relu || (a->second == rule_ops::Activation::hardtanh && pa == 0);
      if ((rules.activation() == ActivationRule::guided || rules.activation() == ActivationRule::deconvnet) && !relu_like)
        uncovered(rules, n, "is an activation whose rule is defined for ReLU only");
      Value* out = g.insert(op("activation"), {n->input(0), NamedValue(int64_t(a->second)), NamedValue(pa), NamedValue(pb),
                                               NamedValue(int64_t(rules.activation()))});
      replace_output(n, out, dep);
      continue;
    }
    if (n->kind() == aten::softmax && rules.activation() == ActivationRule::rescale) {
      const auto dtype = torch::jit::toIValue(n->input(2));
      if (!dtype || !dtype->isNone()) uncovered(rules, n, "converts its type, which the softmax rule does not cover");
      replace_output(n, g.insert(op("softmax"), {n->input(0), n->input(1)}), dep);
      continue;
    }
    if (n->kind() == aten::max_pool2d) {
      if (!rules.rescale_max_pool()) continue;
      std::vector<NamedValue> args(n->inputs().begin(), n->inputs().end());
      replace_output(n, g.insert(op("max_pool2d"), args), dep);
      continue;
    }
    const bool conv = is_conv2d(n);
    if (conv || n->kind() == aten::linear) {
      if (dep.count(n->input(1)) || (n->inputs().size() > 2 && dep.count(n->input(2))))
        uncovered(rules, n, "has weights computed from the input");
      const bool first = !first_layer_seen;
      first_layer_seen = true;
      const LayerRule rule = first && rules.first_layer() ? *rules.first_layer() : conv ? rules.convolutions() : rules.dense();
      if (rule == LayerRule::gradient) continue;
      Value* out;
      if (conv) {
        const size_t groups = n->kind() == aten::conv2d ? 6 : 8;
        out = g.insert(op("lrp_conv2d"), {n->input(0), n->input(1), n->input(2), n->input(3), n->input(4), n->input(5),
                                           n->input(groups), NamedValue(int64_t(rule)), in.epsilon, in.gamma, in.low, in.high});
      } else {
        out = g.insert(op("lrp_linear"), {n->input(0), n->input(1), n->input(2), NamedValue(int64_t(rule)), in.epsilon,
                                           in.gamma, in.low, in.high});
      }
      replace_output(n, out, dep);
      continue;
    }
    const bool sum = n->kind() == aten::add || n->kind() == aten::add_ || n->kind() == aten::sub || n->kind() == aten::sub_;
    if (sum && dependent_tensors == 2 && n->inputs().size() == 3) {
      if (!rules.relevance()) continue;
      double alpha = constant_number(rules, n, 2, 1);
      if (n->kind() == aten::sub || n->kind() == aten::sub_) alpha = -alpha;
      replace_output(n, g.insert(op("lrp_add"), {n->input(0), n->input(1), NamedValue(alpha), in.epsilon}), dep);
      continue;
    }
    if (n->kind() == aten::batch_norm) continue;  // eval mode: affine; under LRP merged above
    const bool scaling = (n->kind() == aten::mul || n->kind() == aten::mul_ || n->kind() == aten::div ||
                          n->kind() == aten::div_ || sum) && dependent_tensors <= 1;
    if (is_structural(n) || scaling) continue;
    if (strict)
      uncovered(rules, n, dependent_tensors >= 2 ? "combines two input-dependent tensors non-linearly, which the rules do not cover"
                                                 : "is not covered by the rules");
  }
}

}  // namespace

TorchScriptRules::TorchScriptRules(torch::jit::Module& module, const LogitsSelection& logits)
    : module_(module), logits_(logits) {}

at::Tensor TorchScriptRules::forward(const at::Tensor& x, const BackwardRules& rules) {
  const std::string key = rules.structure_key();
  auto it = methods_.find(key);
  if (it == methods_.end()) {
    const auto g = torch::jit::toGraphFunction(module_.get_method("forward").function()).graph()->copy();
    torch::jit::Inline(*g);
    GraphInputs in;
    in.low = g->addInput("glassbox_low")->setType(c10::TensorType::get());
    in.high = g->addInput("glassbox_high")->setType(c10::TensorType::get());
    in.epsilon = g->addInput("glassbox_epsilon")->setType(c10::FloatType::get());
    in.gamma = g->addInput("glassbox_gamma")->setType(c10::FloatType::get());
    apply_rules(*g, rules, in);
    const std::string name = "__glassbox_rules_" + key;
    if (!module_.find_method(name)) {
      const auto cu = module_._ivalue()->compilation_unit();
      module_.type()->addMethod(cu->create_function(c10::QualifiedName(*module_.type()->name(), name), g));
    }
    it = methods_.emplace(key, name).first;
  }
  const RuleApplication application(rules, x);
  // As TorchScriptLayers: the executor's fusion would hide the glassbox operators' autograd nodes.
  torch::jit::GraphOptimizerEnabledGuard unoptimized(false);
  return logits_(module_.get_method(it->second)({x, application.low(), application.high(), rules.epsilon(), rules.gamma()}));
}

}  // namespace glassbox::models
