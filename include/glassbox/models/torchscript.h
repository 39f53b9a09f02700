// TorchScript modules (saved from Python with torch.jit.script/trace + save) as Classifiers.
#pragma once

#include <memory>
#include <string>

#include "glassbox/models/classifier.h"

namespace torch::jit {
struct Module;
}

namespace glassbox::models {

class TorchScriptClassifier : public Classifier {
 public:
  // Loads `path`; runs one zero batch of `shape` to learn the class count and checks the output is
  // [B, classes] floating logits. Errors name the file and what was found.
  TorchScriptClassifier(const std::string& path, InputShape shape);
  ~TorchScriptClassifier() override;

  at::Tensor forward(const at::Tensor& x) override;
  std::vector<at::Tensor> parameters() override;
  void train(bool on = true) override;
  bool is_training() const override;
  void to(c10::Device device) override;
  InputShape input_shape() const override { return shape_; }
  int64_t num_classes() const override { return classes_; }
  std::string name() const override { return "torchscript:" + path_; }

 private:
  std::string path_;
  InputShape shape_;
  int64_t classes_ = 0;
  std::unique_ptr<torch::jit::Module> module_;
};

}  // namespace glassbox::models
