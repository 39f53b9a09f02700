#include "torchscript-layers.h"

#include <torch/csrc/jit/api/function_impl.h>
#include <torch/csrc/jit/ir/ir.h>
#include <torch/csrc/jit/runtime/graph_executor.h>

#include <algorithm>
#include <set>
#include <sstream>

#include "fused-attention.h"
#include "glassbox/util/error.h"
#include "torchscript-graph.h"

namespace glassbox::models {
namespace {

using torch::jit::Block;
using torch::jit::Graph;
using torch::jit::GraphFunction;
using torch::jit::Node;
using torch::jit::Value;
namespace prim = c10::prim;
namespace attr = c10::attr;

// The attribute name `value` was read as from `owner` (prim::GetAttr[name](owner)), or "".
std::string attribute_of(Value* value, Value* owner) {
  Node* n = value->node();
  return n->kind() == prim::GetAttr && n->input(0) == owner ? n->s(attr::name) : "";
}

GraphFunction* callee_of(Node* call) {
  const auto cls = call->input(0)->type()->cast<c10::ClassType>();
  if (!cls) return nullptr;
  torch::jit::Function* fn = cls->findMethod(call->s(attr::name));
  return fn ? &torch::jit::toGraphFunction(*fn) : nullptr;
}

struct Found {
  std::string name;
  Value* output;
};

// Inlines a call (the callee's own graph, not its optimized graph, in which every submodule call is
// already inlined away). The call's node is destroyed: values noted in `found` that were its output
// are moved to the value that replaces it.
std::vector<Value*> inline_call(Node* call, GraphFunction* callee, std::vector<Found>* found) {
  Value* old = call->outputs().size() == 1 ? call->output() : nullptr;
  std::vector<Value*> outputs = torch::jit::inlineCallTo(call, callee, false);
  if (found && old)
    for (Found& f : *found)
      if (f.output == old) f.output = outputs.size() == 1 ? outputs[0] : nullptr;
  return outputs;
}

// Inlines the calls `owner` makes to its own methods (a torchvision ResNet's forward calls
// _forward_impl) until none is left, so that its children's calls are in the graph.
void inline_own_methods(Graph& g, Value* owner, std::vector<Found>* found = nullptr) {
  for (bool again = true; again;) {
    again = false;
    std::vector<Node*> nodes;
    collect_nodes(g.block(), nodes);
    for (Node* n : nodes)
      if (n->kind() == prim::CallMethod && n->input(0) == owner)
        if (GraphFunction* f = callee_of(n)) {
          inline_call(n, f, found);
          again = true;
          break;
        }
  }
}

// A call of a module's forward: "forward", or one of its overloads, which TorchScript names "forward__0",
// "forward__1", ... (torchvision's DenseNet layers take a tensor or a list of them, so a scripted DenseNet
// calls each dense layer's forward__0).
bool is_forward_call(Node* n) {
  if (n->kind() != prim::CallMethod) return false;
  const std::string& name = n->s(attr::name);
  if (name == "forward") return true;
  if (name.rfind("forward__", 0) != 0 || name.size() == 9) return false;
  return std::all_of(name.begin() + 9, name.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The forward calls of `owner`'s child `child`, in graph order.
std::vector<Node*> child_calls(Graph& g, Value* owner, const std::string& child) {
  std::vector<Node*> nodes, out;
  collect_nodes(g.block(), nodes);
  for (Node* n : nodes)
    if (is_forward_call(n) && attribute_of(n->input(0), owner) == child)
      out.push_back(n);
  return out;
}

// The next forward call of any child of `owner` not seen yet, in graph order.
Node* next_child_call(Graph& g, Value* owner, const std::set<Node*>& seen, std::string& child) {
  std::vector<Node*> nodes;
  collect_nodes(g.block(), nodes);
  for (Node* n : nodes)
    if (is_forward_call(n) && !seen.count(n)) {
      child = attribute_of(n->input(0), owner);
      if (!child.empty()) return n;
    }
  return nullptr;
}

std::shared_ptr<Graph> forward_graph(torch::jit::Module& module) {
  return torch::jit::toGraphFunction(module.get_method("forward").function()).graph()->copy();
}

// Every call of a submodule of `owner` (preorder, in call order), each child inlined after its output
// is noted so that its own children become visible.
void expand(Graph& g, Value* owner, const std::string& prefix, std::vector<Found>& found, int depth) {
  GLASSBOX_CHECK(depth < 64, "TorchScript module nested deeper than 64 levels");
  inline_own_methods(g, owner, &found);
  std::set<Node*> seen;
  std::string child;
  while (Node* call = next_child_call(g, owner, seen, child)) {
    Value* child_value = call->input(0);
    GraphFunction* f = callee_of(call);
    if (f == nullptr) {  // kept in the graph: noted so as not to be found again (inlined ones are gone)
      seen.insert(call);
      continue;
    }
    const std::vector<Value*> outputs = inline_call(call, f, &found);
    found.push_back({prefix + child, outputs.size() == 1 ? outputs[0] : nullptr});
    expand(g, child_value, prefix + child + ".", found, depth + 1);
  }
}

bool is_attention_module(Value* module) {
  const auto cls = module->type()->cast<c10::ClassType>();
  return cls && cls->name() && cls->name()->name() == "MultiheadAttention";
}

std::vector<Node*> softmax_nodes(Graph& g) {
  std::vector<Node*> out;
  for (Node* n : g.block()->nodes())
    if (n->kind() == c10::aten::softmax) out.push_back(n);
  return out;
}

// A scripted nn.MultiheadAttention call, forward(query, key, value, key_padding_mask, need_weights,
// attn_mask, average_attn_weights, ...), replaced by the decomposition (fused-attention.h) reading the
// module's own parameters: it returns the same (output, weights) and the weights per head, returned.
Value* decompose_attention_call(Graph& g, Node* call, const torch::jit::Module& attention, const std::string& name) {
  GLASSBOX_CHECK_PARAM(call->inputs().size() >= 8 && call->input(4)->mustBeNone() && call->input(6)->mustBeNone(),
                       "layer", name, "an attention with a mask, which glassbox cannot decompose");
  GLASSBOX_CHECK_PARAM(attention.hasattr("batch_first") && attention.attr("batch_first").toBool(), "layer", name,
                       "an attention that is not batch first, which glassbox cannot decompose");
  GLASSBOX_CHECK_PARAM(attention.hasattr("in_proj_weight") && attention.attr("in_proj_weight").isTensor() &&
                           attention.hasattr("in_proj_bias") && attention.attr("in_proj_bias").isTensor(),
                       "layer", name, "an attention without one input projection with bias, which glassbox cannot decompose");
  torch::jit::WithInsertPoint here(call);
  Value* self = call->input(0);
  Value* out_proj = g.insertGetAttr(self, "out_proj");
  const std::vector<Value*> inputs{call->input(1),
                                   call->input(2),
                                   call->input(3),
                                   g.insertGetAttr(self, "embed_dim"),
                                   g.insertGetAttr(self, "num_heads"),
                                   g.insertGetAttr(self, "in_proj_weight"),
                                   g.insertGetAttr(self, "in_proj_bias"),
                                   g.insertGetAttr(out_proj, "weight"),
                                   g.insertGetAttr(out_proj, "bias"),
                                   call->input(5),
                                   call->input(7)};
  Node* unpack = insert_attention_decomposition(g, inputs);
  Node* pair = g.insertNode(g.createTuple({unpack->output(0), unpack->output(1)}));
  pair->output()->setType(call->output()->type());
  call->output()->replaceAllUsesWith(pair->output());
  call->destroy();
  return unpack->output(2);
}

// Like expand, but stops at attention modules and notes their weights per head: a scripted one's call is
// decomposed; a traced one's forward (straight-line code, its fused kernel already decomposed at load)
// is inlined and its one softmax taken.
void expand_to_attention(Graph& g, Value* owner, const torch::jit::Module& module, const std::string& prefix,
                         std::vector<Found>& found, int depth) {
  GLASSBOX_CHECK(depth < 64, "TorchScript module nested deeper than 64 levels");
  inline_own_methods(g, owner);
  std::set<Node*> seen;
  std::string child;
  while (Node* call = next_child_call(g, owner, seen, child)) {
    Value* child_value = call->input(0);
    GraphFunction* f = callee_of(call);
    const std::string name = prefix + child;
    if (f == nullptr || !module.hasattr(child) || !module.attr(child).isModule()) {
      seen.insert(call);
      continue;
    }
    const torch::jit::Module sub = module.attr(child).toModule();
    if (!is_attention_module(child_value)) {
      inline_call(call, f, nullptr);
      expand_to_attention(g, child_value, sub, name + ".", found, depth + 1);
      continue;
    }
    if (sub.hasattr("num_heads")) {
      found.push_back({name, decompose_attention_call(g, call, sub, name)});
      continue;
    }
    const std::vector<Node*> before = softmax_nodes(g);
    inline_call(call, f, nullptr);
    std::vector<Node*> added;
    for (Node* n : softmax_nodes(g))
      if (std::find(before.begin(), before.end(), n) == before.end()) added.push_back(n);
    GLASSBOX_CHECK_PARAM(added.size() == 1, "layer", name, "an attention whose traced code has ", added.size(),
                         " softmax operations in its top level, where glassbox expects its one attention softmax");
    found.push_back({name, added[0]->output()});
  }
}

// Registers `g` as a new method of the module's type (once per name) and returns the name.
std::string add_method(torch::jit::Module& module, const std::string& name, const std::shared_ptr<Graph>& g) {
  if (!module.find_method(name)) {
    const auto cu = module._ivalue()->compilation_unit();
    const c10::QualifiedName qualified(*module.type()->name(), name);
    module.type()->addMethod(cu->create_function(qualified, g));
  }
  return name;
}

// Makes `g` return (its output, extra...) instead of its output.
void return_also(Graph& g, const std::vector<Value*>& extra) {
  std::vector<Value*> values{g.outputs()[0]};
  values.insert(values.end(), extra.begin(), extra.end());
  Node* tuple = g.createTuple(values);
  g.appendNode(tuple);
  g.eraseOutput(0);
  g.registerOutput(tuple->output());
}

// The rest of the forward reads a copy of the layer's output, so that what is returned is the value the
// layer produced: a later in-place op (a ResNet block's `out += identity`, VGG's ReLU(inplace=True) after
// a BatchNorm, DenseNet's final relu_) would otherwise overwrite it, and the "layer" read would be that
// of whatever op wrote last. The copy is an autograd node, so gradients still flow back to the value.
// A copy of `source` (aten::clone), made right after the node that produces `activation` and typed as it.
Value* clone_after(Graph& g, Value* activation, Value* source) {
  torch::jit::WithInsertPoint before(activation->node()->next());
  Value* no_memory_format = g.insertConstant(c10::IValue());
  Node* clone = g.insertNode(g.create(c10::aten::clone, {source, no_memory_format}));
  clone->output()->setType(activation->type());
  return clone->output();
}

void keep_from_in_place_ops(Graph& g, Value* activation) {
  Value* copy = clone_after(g, activation, activation);
  activation->replaceAllUsesAfterNodeWith(copy->node(), copy);
}

bool is_tensor(Value* v) { return v != nullptr && v->type()->kind() == c10::TypeKind::TensorType; }

std::string method_name(const std::string& prefix, const std::string& layer) {
  std::string out = prefix;
  for (char c : layer) out += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return out;
}

}  // namespace

TorchScriptLayers::TorchScriptLayers(torch::jit::Module& module, std::string path, const LogitsSelection& logits)
    : module_(module), path_(std::move(path)), logits_(logits) {}

const std::vector<LayerInfo>& TorchScriptLayers::layers(const at::Tensor& probe) {
  if (!layers_.empty()) return layers_;
  const auto g = forward_graph(module_);
  std::vector<Found> found;
  expand(*g, g->inputs()[0], "", found, 0);
  // Outputs in the graph's own block can be returned; the others' shapes stay unknown.
  std::vector<Value*> extra;
  std::vector<int> slot(found.size(), -1);
  for (size_t i = 0; i < found.size(); ++i)
    if (is_tensor(found[i].output) && found[i].output->node()->owningBlock() == g->block()) {
      slot[i] = static_cast<int>(extra.size());
      extra.push_back(found[i].output);
    }
  return_also(*g, extra);
  const std::string name = add_method(module_, "__glassbox_all_layers", g);
  torch::NoGradGuard no_grad;
  const auto out = module_.get_method(name)({probe}).toTuple();
  std::map<std::string, int> calls;
  for (const Found& f : found) ++calls[f.name];
  std::set<std::string> listed;
  for (size_t i = 0; i < found.size(); ++i) {
    if (!listed.insert(found[i].name).second) continue;
    LayerInfo info{found[i].name, {}, calls[found[i].name]};
    if (slot[i] >= 0) {
      const at::Tensor t = out->elements()[static_cast<size_t>(slot[i]) + 1].toTensor();
      info.shape.assign(t.sizes().begin() + 1, t.sizes().end());
    }
    layers_.push_back(info);
  }
  return layers_;
}

std::shared_ptr<Graph> TorchScriptLayers::graph_to_layer(const std::string& layer, Value*& activation) {
  const auto g = forward_graph(module_);
  Value* owner = g->inputs()[0];
  inline_own_methods(*g, owner);
  activation = nullptr;
  std::stringstream parts(layer);
  std::vector<std::string> path;
  for (std::string part; std::getline(parts, part, '.');) path.push_back(part);
  GLASSBOX_CHECK_PARAM(!path.empty(), "layer", layer, "an empty name");
  std::string so_far;
  for (size_t i = 0; i < path.size(); ++i) {
    so_far += (i ? "." : "") + path[i];
    const std::vector<Node*> calls = child_calls(*g, owner, path[i]);
    if (calls.empty()) {
      // The candidates, by name: every submodule forward calls.
      const auto all = forward_graph(module_);
      std::vector<Found> found;
      expand(*all, all->inputs()[0], "", found, 0);
      std::string names;
      std::set<std::string> seen;
      size_t listed = 0;
      for (const Found& f : found)
        if (seen.insert(f.name).second && listed++ < 16) names += (names.empty() ? "" : ", ") + f.name;
      if (seen.size() > 16) names += ", ... (" + std::to_string(seen.size()) + " in all: glassbox layers lists them)";
      throw Error::about("layer", layer, (so_far == layer ? "" : "its part '" + so_far + "' is ") +
                  "not a submodule forward calls (unused, or inlined away); layers: " + names);
    }
    GLASSBOX_CHECK_PARAM(calls.size() == 1, "layer", layer, so_far, " is called ", calls.size(),
                   " times by forward, so its activation is ambiguous");
    if (i + 1 == path.size()) {
      activation = calls[0]->output();
      break;
    }
    Value* child = calls[0]->input(0);
    GraphFunction* f = callee_of(calls[0]);
    GLASSBOX_CHECK_PARAM(f != nullptr, "layer", layer, "cannot follow the call of ", so_far);
    inline_call(calls[0], f, nullptr);
    owner = child;
    inline_own_methods(*g, owner);
  }
  GLASSBOX_CHECK_PARAM(is_tensor(activation), "layer", layer, "its output is not a tensor");
  GLASSBOX_CHECK_PARAM(activation->node()->owningBlock() == g->block(), "layer", layer,
                 "called inside a loop or branch of forward, where its output cannot be returned");
  return g;
}

LayerForward TorchScriptLayers::forward(const at::Tensor& x, const std::string& layer) {
  auto it = methods_.find(layer);
  if (it == methods_.end()) {
    Value* activation = nullptr;
    const auto g = graph_to_layer(layer, activation);
    keep_from_in_place_ops(*g, activation);
    return_also(*g, {activation});
    it = methods_.emplace(layer, add_method(module_, method_name("__glassbox_with_", layer), g)).first;
  }
  // Without the graph executor's optimisations: it would fuse the forward into differentiable subgraphs
  // whose intermediate outputs are siblings of the logits in autograd, not their ancestors, and the
  // gradient of a score with respect to the layer's activation would not exist.
  torch::jit::GraphOptimizerEnabledGuard unoptimized(false);
  const auto out = module_.get_method(it->second)({x}).toTuple();
  LayerForward r;
  r.logits = logits_(out->elements()[0]);
  r.activation = out->elements()[1].toTensor();
  return r;
}

AttentionForward TorchScriptLayers::forward_with_attention(const at::Tensor& x) {
  if (attention_method_.empty()) {
    const auto g = forward_graph(module_);
    std::vector<Found> found;
    expand_to_attention(*g, g->inputs()[0], module_, "", found, 0);
    GLASSBOX_CHECK_PARAM(!found.empty(), "model", path_, "has no attention modules (nn.MultiheadAttention) that forward calls");
    std::vector<Value*> weights;
    for (const Found& f : found) {
      GLASSBOX_CHECK_PARAM(f.output->node()->owningBlock() == g->block(), "layer", f.name,
                           "called inside a loop or branch of forward, where its attention cannot be returned");
      weights.push_back(f.output);
      attention_layers_.push_back(f.name);
    }
    return_also(*g, weights);
    attention_method_ = add_method(module_, "__glassbox_with_attention", g);
  }
  torch::jit::GraphOptimizerEnabledGuard unoptimized(false);
  const auto out = module_.get_method(attention_method_)({x}).toTuple();
  AttentionForward r;
  r.logits = logits_(out->elements()[0]);
  r.layers = attention_layers_;
  for (size_t i = 1; i < out->elements().size(); ++i) r.attention.push_back(out->elements()[i].toTensor());
  return r;
}

at::Tensor TorchScriptLayers::forward_replacing(const at::Tensor& x, const std::string& layer, const at::Tensor& value) {
  auto it = replacing_methods_.find(layer);
  if (it == replacing_methods_.end()) {
    Value* activation = nullptr;
    const auto g = graph_to_layer(layer, activation);
    Value* replacement = g->addInput("replacement")->setType(c10::TensorType::get());
    // The rest of forward reads a copy of the replacement: its in-place ops (a block's `out += identity`)
    // must not write into the caller's tensor, which autograd would refuse for a leaf that needs grad.
    activation->replaceAllUsesWith(clone_after(*g, activation, replacement));
    it = replacing_methods_.emplace(layer, add_method(module_, method_name("__glassbox_replacing_", layer), g)).first;
  }
  torch::jit::GraphOptimizerEnabledGuard unoptimized(false);
  return logits_(module_.get_method(it->second)({x, value}));
}

}  // namespace glassbox::models
