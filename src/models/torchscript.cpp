#include "glassbox/models/torchscript.h"

#include <ATen/Parallel.h>
#include <caffe2/serialize/read_adapter_interface.h>
#include <torch/csrc/jit/api/function_impl.h>
#include <torch/csrc/jit/runtime/print_handler.h>
#include <torch/script.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <mutex>
#include <set>

#include "glassbox/util/error.h"
#include "glassbox/util/file-bytes.h"
#include "glassbox/util/isolated-call.h"
#include "glassbox/util/terminal-text.h"
#include "glassbox/util/watchdog.h"
#include "glassbox/util/zip-archive.h"
#include "fused-attention.h"
#include "torchscript-layers.h"
#include "torchscript-rules.h"
#include "torchscript-output.h"

namespace glassbox::models {
namespace {

// The checked bytes, handed to libtorch without going back to the file (which may have changed).
class BytesReader final : public caffe2::serialize::ReadAdapterInterface {
 public:
  explicit BytesReader(std::shared_ptr<const std::string> bytes) : bytes_(std::move(bytes)) {}
  size_t size() const override { return bytes_->size(); }
  size_t read(uint64_t pos, void* buf, size_t n, const char* = "") const override {
    if (pos >= bytes_->size()) return 0;
    n = std::min<size_t>(n, bytes_->size() - static_cast<size_t>(pos));
    std::memcpy(buf, bytes_->data() + pos, n);
    return n;
  }

 private:
  std::shared_ptr<const std::string> bytes_;
};

std::string first_line(const std::string& s) {
  const size_t start = s.find_first_not_of(" \n");
  if (start == std::string::npos) return "no reason given";
  return printable_excerpt(s.substr(start, s.find('\n', start) - start), 200);
}

torch::jit::Module load_module(const std::shared_ptr<const std::string>& bytes, const std::string& path) {
  try {
    torch::jit::Module m = torch::jit::load(std::make_shared<BytesReader>(bytes));
    m.eval();
    decompose_fused_attention(m);
    return m;
  } catch (const c10::Error& e) {
    throw Error(path + ": not a loadable TorchScript module (" + first_line(e.what_without_backtrace()) + ")");
  } catch (const std::exception& e) {
    throw Error(path + ": not a loadable TorchScript module (" + first_line(e.what()) + ")");
  }
}

// The module's output for a batch, whatever it is; errors name the file.
c10::IValue run_forward(torch::jit::Module& module, const at::Tensor& x, const std::string& path) {
  try {
    return module.forward({x});
  } catch (const c10::Error& e) {
    throw Error(path + ": forward failed on a " + c10::str(x.sizes()) + " input (" +
                first_line(e.what_without_backtrace()) + ")");
  } catch (const std::exception& e) {
    throw Error(path + ": forward failed on a " + c10::str(x.sizes()) + " input (" + first_line(e.what()) + ")");
  }
}

// The logits chosen from a forward's output, checked to be [B, classes] floating (classes 0: any).
at::Tensor checked_logits(const c10::IValue& out, const LogitsSelection& selection, int64_t batch,
                          const std::string& path, int64_t classes) {
  at::Tensor logits = selection(out);
  GLASSBOX_CHECK(logits.dim() == 2 && logits.size(0) == batch && at::isFloatingType(logits.scalar_type()), path,
                 ": output ", logits.sizes(), " (", logits.scalar_type(), ") for a batch of ", batch, ", expected [",
                 batch, ", classes] floating logits");
  GLASSBOX_CHECK(classes == 0 || logits.size(1) == classes, path, ": output has ", logits.size(1), " classes, earlier ",
                 classes);
  return logits;
}

void collect_nodes(torch::jit::Block* block, std::vector<torch::jit::Node*>& out) {
  for (torch::jit::Node* n : block->nodes()) {
    out.push_back(n);
    for (torch::jit::Block* sub : n->blocks()) collect_nodes(sub, out);
  }
}

// Whether an operator reads or writes files: one that takes a file name (aten::from_file's `filename`;
// any op with a string argument named like a path).
bool takes_a_file(const c10::FunctionSchema& schema) {
  for (const c10::Argument& a : schema.arguments()) {
    if (a.type()->kind() != c10::TypeKind::StringType) continue;
    const std::string& n = a.name();
    if (n == "filename" || n == "file" || n == "path" || n == "f" || n == "fname" || n == "dirname") return true;
  }
  return false;
}

// Every function the module's code defines (methods of modules and classes, __setstate__ included) may
// use only TorchScript's own and ATen's tensor operations, and none that reaches a file. Anything else
// (custom operators, which may do anything) is refused by name, with the method that uses it.
void check_operations(torch::jit::Module& module, const std::string& path) {
  const auto cu = module._ivalue()->compilation_unit();
  for (torch::jit::Function* fn : cu->get_functions()) {
    if (!fn->isGraphFunction()) continue;
    std::vector<torch::jit::Node*> nodes;
    collect_nodes(torch::jit::toGraphFunction(*fn).graph()->block(), nodes);
    for (torch::jit::Node* n : nodes) {
      const c10::Symbol kind = n->kind();
      const std::string ns = kind.ns().toUnqualString();
      const bool known = ns == "aten" || ns == "prim" || ns == "quantized";
      const c10::FunctionSchema* schema = n->maybeSchema();
      GLASSBOX_CHECK(known && kind != c10::Symbol::fromQualString("aten::from_file") && !(schema && takes_a_file(*schema)),
                     path, ": refused: method ", printable_excerpt(fn->qualname().qualifiedName(), 120), " uses ",
                     printable_excerpt(kind.toQualString(), 80),
                     known ? ", which reaches files" : ", an operator outside ATen and TorchScript's own",
                     " (a model's code may compute only on tensors)");
    }
  }
}

// A module's print() goes to stderr, marked as the model's and escaped: its text is the file author's,
// and escape sequences in it would otherwise reach the terminal.
void print_model_text(const std::string& text) {
  std::string_view body = text;
  if (!body.empty() && body.back() == '\n') body.remove_suffix(1);  // print() ends its text with one
  const std::string line = terminal_text(body.substr(0, 4096));
  std::fprintf(stderr, "glassbox: model prints: %s\n", line.c_str());
}

// Runs a zero batch: which part of the output is the logits (`stated`, or found), and how many classes.
// Warnings raised while a module runs (its code's warnings.warn, or libtorch's own) go to stderr escaped,
// as print() does, each distinct one once: the text may be the file author's, and a forward called per
// batch would repeat it.
class EscapingWarningHandler final : public c10::WarningHandler {
 public:
  void process(const c10::SourceLocation&, const std::string& message, bool) override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (seen_.size() >= 64 || !seen_.insert(message.substr(0, 512)).second) return;
    const std::string line = terminal_text(std::string_view(message).substr(0, 4096));
    std::fprintf(stderr, "glassbox: warning while running the model: %s\n", line.c_str());
  }

 private:
  std::mutex mutex_;
  std::set<std::string> seen_;
};

int64_t probe_classes(torch::jit::Module& module, const InputShape& s, const std::string& path, const std::string& stated,
                      LogitsSelection& selection) {
  torch::NoGradGuard no_grad;
  const c10::IValue out = run_forward(module, torch::zeros({2, s.channels, s.height, s.width}), path);
  selection = LogitsSelection(out, stated, 2, path);
  const at::Tensor probe = checked_logits(out, selection, 2, path, 0);
  GLASSBOX_CHECK(probe.size(1) >= 2, path, ": output has ", probe.size(1), " classes, expected at least 2");
  return probe.size(1);
}

}  // namespace

TorchScriptClassifier::TorchScriptClassifier(const std::string& path, InputShape shape, const TorchScriptOptions& options)
    : path_(path), forward_timeout_seconds_(options.forward_timeout_seconds()), shape_(shape) {
  validate_input_shape(shape, path);
  GLASSBOX_CHECK(std::isfinite(forward_timeout_seconds_) && forward_timeout_seconds_ >= 0, path,
                 ": forward_timeout_seconds ", forward_timeout_seconds_, ": expected 0 (no limit) or more");
  torch::jit::setPrintHandler(&print_model_text);
  static EscapingWarningHandler warnings;
  c10::Warning::set_warning_handler(&warnings);
  const auto bytes = std::make_shared<const std::string>(read_file(path, options.max_model_bytes()));
  ZipLimits limits;
  limits.max_total_bytes = options.max_model_bytes();
  ZipArchive zip(*bytes, path, limits);  // damage and bombs caught here, before libtorch
  GLASSBOX_CHECK(zip.find(zip.prefix() + "data.pkl") != nullptr, path,
                 ": not a TorchScript module (no data.pkl in the archive)");
  if (options.isolated_first_load())
    run_isolated(
        [&] {
          at::set_num_threads(1);  // a forked child has no thread pool
          torch::jit::Module m = load_module(bytes, path);
          check_operations(m, path);
          LogitsSelection selection;
          int64_t classes = 0;
          try {
            classes = probe_classes(m, shape, path, options.logits(), selection);
          } catch (const Error& e) {
            // Which part of the output is the logits is the caller's choice, not the file's fault: said
            // below, from this process, as an error about "logits".
            if (e.parameter() == "logits") return;
            throw;
          }
          // Zeros alone let through a forward that loops only on other inputs: real-looking inputs (pixels
          // in [0, 1], normalised values around 0) run here too, under the same time limit.
          torch::NoGradGuard no_grad;
          at::manual_seed(0);
          for (const at::Tensor& x : {torch::rand({2, shape.channels, shape.height, shape.width}),
                                      torch::randn({2, shape.channels, shape.height, shape.width})})
            checked_logits(run_forward(m, x, path), selection, x.size(0), path, classes);
        },
        path, options.isolation_timeout_seconds());
  module_ = std::make_unique<torch::jit::Module>(load_module(bytes, path));
  logits_ = std::make_unique<LogitsSelection>();
  classes_ = probe_classes(*module_, shape, path, options.logits(), *logits_);
  layers_ = std::make_unique<TorchScriptLayers>(*module_, path, *logits_);
  rules_ = std::make_unique<TorchScriptRules>(*module_, *logits_);
}

TorchScriptClassifier::~TorchScriptClassifier() = default;

std::unique_ptr<Watchdog> TorchScriptClassifier::watch(const char* what) const {
  if (forward_timeout_seconds_ <= 0) return nullptr;
  return std::make_unique<Watchdog>(
      path_ + ": " + what + " did not finish within " + c10::str(forward_timeout_seconds_) +
          " s (a forward that never ends on this input, or a limit too short for it: forward_timeout_seconds); stopped",
      std::chrono::milliseconds(static_cast<int64_t>(forward_timeout_seconds_ * 1000)));
}

at::Tensor TorchScriptClassifier::forward(const at::Tensor& x) {
  const auto watchdog = watch("forward");
  return checked_logits(run_forward(*module_, x, path_), *logits_, x.size(0), path_, classes_);
}

std::string TorchScriptClassifier::logits_source() const { return logits_->description(); }

std::vector<at::Tensor> TorchScriptClassifier::parameters() {
  std::vector<at::Tensor> params;
  for (const at::Tensor& p : module_->parameters()) params.push_back(p);
  return params;
}

std::vector<std::pair<std::string, at::Tensor>> TorchScriptClassifier::named_parameters() {
  std::vector<std::pair<std::string, at::Tensor>> out;
  for (const auto& item : module_->named_parameters(/*recurse=*/true)) out.emplace_back(item.name, item.value);
  return out;
}

std::vector<LayerInfo> TorchScriptClassifier::layers() {
  const auto watchdog = watch("listing its layers");
  const c10::Device device = device_of(*this);
  return layers_->layers(torch::zeros({1, shape_.channels, shape_.height, shape_.width}, at::TensorOptions().device(device)));
}

namespace {

// One call into a graph copy (layers', rules'): a glassbox error gains the file as context; anything
// else libtorch throws from inside the graph becomes `failure(its first line)`, which names what the
// caller asked for (the layer, the method).
template <typename Call>
auto call_graph_copy(const std::string& path, Call&& call, const std::function<Error(const std::string&)>& failure) {
  try {
    return call();
  } catch (Error& e) {
    throw e.add_context(path);
  } catch (const std::exception& e) {
    throw failure(first_line(e.what()));
  }
}

// A graph copy's logits: [B, classes] (classes 0: not known yet, any).
void check_copy_logits(const at::Tensor& logits, const at::Tensor& x, int64_t classes, const std::string& path) {
  GLASSBOX_CHECK(logits.dim() == 2 && logits.size(0) == x.size(0) && (classes == 0 || logits.size(1) == classes), path,
                 ": output ", logits.sizes(), " for a batch of ", x.size(0), ", expected [", x.size(0), ", ", classes, "]");
}

}  // namespace

LayerForward TorchScriptClassifier::forward_with_layer(const at::Tensor& x, const std::string& layer) {
  const auto watchdog = watch("forward");
  LayerForward r = call_graph_copy(path_, [&] { return layers_->forward(x, layer); },
                                   [&](const std::string& why) { return Error::about("layer", layer, why).add_context(path_); });
  check_copy_logits(r.logits, x, classes_, path_);
  return r;
}

at::Tensor TorchScriptClassifier::forward_replacing_layer(const at::Tensor& x, const std::string& layer,
                                                          const at::Tensor& value) {
  const auto watchdog = watch("forward");
  at::Tensor logits = call_graph_copy(path_, [&] { return layers_->forward_replacing(x, layer, value); },
                                      [&](const std::string& why) { return Error::about("layer", layer, why).add_context(path_); });
  check_copy_logits(logits, x, classes_, path_);
  return logits;
}

AttentionForward TorchScriptClassifier::forward_with_attention(const at::Tensor& x) {
  const auto watchdog = watch("forward");
  AttentionForward r = call_graph_copy(path_, [&] { return layers_->forward_with_attention(x); },
                                       [&](const std::string& why) { return Error::about("model", path_, why); });
  check_copy_logits(r.logits, x, classes_, path_);
  return r;
}

at::Tensor TorchScriptClassifier::forward_with_rules(const at::Tensor& x, const BackwardRules& rules) {
  const auto watchdog = watch("forward");
  at::Tensor logits = call_graph_copy(path_, [&] { return rules_->forward(x, rules); }, [&](const std::string& why) {
    return Error::about("method", rules.method(), why).add_context(path_);
  });
  check_copy_logits(logits, x, classes_, path_);
  return logits;
}

void TorchScriptClassifier::train(bool on) { module_->train(on); }
bool TorchScriptClassifier::is_training() const { return module_->is_training(); }
void TorchScriptClassifier::to(c10::Device device) { module_->to(device); }

}  // namespace glassbox::models
