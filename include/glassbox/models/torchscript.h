// TorchScript modules (saved from Python with torch.jit.script/trace + save) as Classifiers.
//
// A TorchScript file is a program: libtorch parses and runs the code inside it (a class's __setstate__
// runs while it loads). glassbox checks the zip container first (sizes, offsets, CRC-32 of every entry:
// a flipped bit or a truncated file is caught there), then loads it once in a contained child process
// (isolated-call.h: no file can be opened for writing, no socket, no exec), where a crash of libtorch's
// parsers becomes an error message, every function of the module's code is checked to use only ATen's
// and TorchScript's own operations and none that reaches a file (aten::from_file, or any operator taking
// a file name; the method and the operator are named), and one zero batch runs. Only then is the module
// loaded here, from the same bytes.
#pragma once

#include <memory>
#include <string>

#include "glassbox/models/classifier.h"
#include "glassbox/util/arg.h"

namespace torch::jit {
struct Module;
}

namespace glassbox {
class Watchdog;
}

namespace glassbox::models {

class TorchScriptLayers;
class TorchScriptRules;
class LogitsSelection;

struct TorchScriptOptions {
  // Load, check the operations of, and run once on zeros in a contained child process first. Off:
  // faster, for files you made yourself.
  GLASSBOX_ARG(bool, isolated_first_load) = true;
  GLASSBOX_ARG(double, isolation_timeout_seconds) = 300;
  // Seconds one forward (of any batch) may take before the process ends with one line and exit status
  // 2 (util/watchdog.h): TorchScript's interpreter cannot be interrupted, so a forward that never ends on
  // some real input (the contained check tries only zeros and random inputs) can only be abandoned.
  // 0: no limit, the library's default, since ending the process is the host program's decision; the
  // command line sets one (--forward-timeout).
  GLASSBOX_ARG(double, forward_timeout_seconds) = 0;
  // The most the archive's entries may hold uncompressed, all together: what loading it will allocate.
  // 4 GiB holds every torchvision classifier (ViT-H/14: 2.5 GB).
  GLASSBOX_ARG(uint64_t, max_model_bytes) = uint64_t(4) << 30;
  // Where the logits are when forward returns more than a tensor: a decimal index into a tuple or list,
  // or a dict key or named-tuple field ("logits"). Empty: the first [B, classes] floating tensor in it
  // (Inception-V3's named tuple gives its logits, not aux_logits). model.json's "logits" field.
  GLASSBOX_ARG(std::string, logits);
};

class TorchScriptClassifier : public Classifier {
 public:
  // Loads `path`; runs one zero batch of `shape` to learn the class count and checks the output is
  // [B, classes] floating logits. Errors name the file and what was found.
  TorchScriptClassifier(const std::string& path, InputShape shape, const TorchScriptOptions& options = {});
  ~TorchScriptClassifier() override;

  at::Tensor forward(const at::Tensor& x) override;
  std::vector<at::Tensor> parameters() override;
  std::vector<std::pair<std::string, at::Tensor>> named_parameters() override;
  void train(bool on = true) override;
  bool is_training() const override;
  void to(c10::Device device) override;
  InputShape input_shape() const override { return shape_; }
  int64_t num_classes() const override { return classes_; }
  std::string name() const override { return "torchscript:" + path_; }
  std::string logits_source() const override;
  // Every submodule forward calls ("layer4", "layer3.1.conv2", "features.0"), reached without hooks.
  std::vector<LayerInfo> layers() override;
  LayerForward forward_with_layer(const at::Tensor& x, const std::string& layer) override;
  at::Tensor forward_replacing_layer(const at::Tensor& x, const std::string& layer, const at::Tensor& value) override;
  AttentionForward forward_with_attention(const at::Tensor& x) override;
  // Forward's graph copied and rewritten (torchscript-rules.h).
  at::Tensor forward_with_rules(const at::Tensor& x, const BackwardRules& rules) override;

 private:
  // A watchdog over one call into the module, when forward_timeout_seconds asks for one.
  std::unique_ptr<Watchdog> watch(const char* what) const;

  std::string path_;
  double forward_timeout_seconds_ = 0;
  InputShape shape_;
  int64_t classes_ = 0;
  std::unique_ptr<torch::jit::Module> module_;
  std::unique_ptr<LogitsSelection> logits_;
  std::unique_ptr<TorchScriptLayers> layers_;
  std::unique_ptr<TorchScriptRules> rules_;
};

}  // namespace glassbox::models
