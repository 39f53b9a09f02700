#include "glassbox/models/torchscript.h"

#include <ATen/Parallel.h>
#include <caffe2/serialize/read_adapter_interface.h>
#include <torch/script.h>

#include <cstring>

#include "glassbox/util/error.h"
#include "glassbox/util/file-bytes.h"
#include "glassbox/util/isolated-call.h"
#include "glassbox/util/zip-archive.h"
#include "torchscript-layers.h"

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
    return m;
  } catch (const c10::Error& e) {
    throw Error(path + ": not a loadable TorchScript module (" + first_line(e.what_without_backtrace()) + ")");
  } catch (const std::exception& e) {
    throw Error(path + ": not a loadable TorchScript module (" + first_line(e.what()) + ")");
  }
}

// The module's output for a batch, checked to be [B, classes] floating logits.
at::Tensor logits_of(torch::jit::Module& module, const at::Tensor& x, const std::string& path, int64_t classes) {
  c10::IValue out;
  try {
    out = module.forward({x});
  } catch (const c10::Error& e) {
    throw Error(path + ": forward failed on a " + c10::str(x.sizes()) + " input (" +
                first_line(e.what_without_backtrace()) + ")");
  } catch (const std::exception& e) {
    throw Error(path + ": forward failed on a " + c10::str(x.sizes()) + " input (" + first_line(e.what()) + ")");
  }
  GLASSBOX_CHECK(out.isTensor(), path, ": forward returned ", out.tagKind(), ", expected a [B, classes] tensor");
  at::Tensor logits = out.toTensor();
  GLASSBOX_CHECK(logits.dim() == 2 && logits.size(0) == x.size(0) && at::isFloatingType(logits.scalar_type()), path,
                 ": output ", logits.sizes(), " (", logits.scalar_type(), ") for a batch of ", x.size(0), ", expected [",
                 x.size(0), ", classes] floating logits");
  GLASSBOX_CHECK(classes == 0 || logits.size(1) == classes, path, ": output has ", logits.size(1), " classes, earlier ",
                 classes);
  return logits;
}

int64_t probe_classes(torch::jit::Module& module, const InputShape& s, const std::string& path) {
  torch::NoGradGuard no_grad;
  const at::Tensor probe = logits_of(module, torch::zeros({2, s.channels, s.height, s.width}), path, 0);
  GLASSBOX_CHECK(probe.size(1) >= 2, path, ": output has ", probe.size(1), " classes, expected at least 2");
  return probe.size(1);
}

}  // namespace

TorchScriptClassifier::TorchScriptClassifier(const std::string& path, InputShape shape, const TorchScriptOptions& options)
    : path_(path), shape_(shape) {
  validate_input_shape(shape, path);
  const auto bytes = std::make_shared<const std::string>(read_file(path));
  ZipArchive zip(*bytes, path);  // damage caught here, before libtorch
  GLASSBOX_CHECK(zip.find(zip.prefix() + "data.pkl") != nullptr, path,
                 ": not a TorchScript module (no data.pkl in the archive)");
  if (options.isolated_first_load())
    run_isolated(
        [&] {
          at::set_num_threads(1);  // a forked child has no thread pool
          torch::jit::Module m = load_module(bytes, path);
          probe_classes(m, shape, path);
        },
        path, options.isolation_timeout_seconds());
  module_ = std::make_unique<torch::jit::Module>(load_module(bytes, path));
  classes_ = probe_classes(*module_, shape, path);
  layers_ = std::make_unique<TorchScriptLayers>(*module_, path);
}

TorchScriptClassifier::~TorchScriptClassifier() = default;

at::Tensor TorchScriptClassifier::forward(const at::Tensor& x) { return logits_of(*module_, x, path_, classes_); }

std::vector<at::Tensor> TorchScriptClassifier::parameters() {
  std::vector<at::Tensor> params;
  for (const at::Tensor& p : module_->parameters()) params.push_back(p);
  return params;
}

std::vector<LayerInfo> TorchScriptClassifier::layers() {
  const c10::Device device = device_of(*this);
  return layers_->layers(torch::zeros({1, shape_.channels, shape_.height, shape_.width}, at::TensorOptions().device(device)));
}

LayerForward TorchScriptClassifier::forward_with_layer(const at::Tensor& x, const std::string& layer) {
  LayerForward r;
  try {
    r = layers_->forward(x, layer);
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error(path_ + ": layer '" + printable_excerpt(layer, 80) + "': " + first_line(e.what()));
  }
  GLASSBOX_CHECK(r.logits.dim() == 2 && r.logits.size(0) == x.size(0) && (classes_ == 0 || r.logits.size(1) == classes_),
                 path_, ": output ", r.logits.sizes(), " for a batch of ", x.size(0), ", expected [", x.size(0), ", ",
                 classes_, "]");
  return r;
}

void TorchScriptClassifier::train(bool on) { module_->train(on); }
bool TorchScriptClassifier::is_training() const { return module_->is_training(); }
void TorchScriptClassifier::to(c10::Device device) { module_->to(device); }

}  // namespace glassbox::models
