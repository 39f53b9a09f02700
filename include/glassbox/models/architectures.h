// The built-in architectures: the seed's model and its relatives, for any C x H x W and class count.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "glassbox/models/classifier.h"
#include "glassbox/models/model-options.h"

namespace torch::nn {
class Module;
}

namespace glassbox::models {

// A built-in model: a torch::nn module behind the Classifier interface.
class ModuleClassifier : public Classifier {
 public:
  explicit ModuleClassifier(const ModelOptions& options);
  ~ModuleClassifier() override;

  at::Tensor forward(const at::Tensor& x) override;
  std::vector<at::Tensor> parameters() override;
  std::vector<std::pair<std::string, at::Tensor>> named_parameters() override;
  void train(bool on = true) override;
  bool is_training() const override;
  void to(c10::Device device) override;
  InputShape input_shape() const override { return options_.shape(); }
  int64_t num_classes() const override { return options_.num_classes(); }
  std::string name() const override { return options_.architecture(); }
  // The outputs of the named submodules: l1 (linear, logreg), l1 and l2 (mlp), conv1, conv2, fc1, fc2 (cnn).
  std::vector<LayerInfo> layers() override;
  LayerForward forward_with_layer(const at::Tensor& x, const std::string& layer) override;
  at::Tensor forward_replacing_layer(const at::Tensor& x, const std::string& layer, const at::Tensor& value) override;
  // Every operation of the built-in models is covered by every rule set.
  at::Tensor forward_with_rules(const at::Tensor& x, const BackwardRules& rules) override;

  const ModelOptions& options() const { return options_; }
  torch::nn::Module& module();

 private:
  ModelOptions options_;
  std::shared_ptr<torch::nn::Module> module_;
  void check_input(const at::Tensor& x) const;
  [[noreturn]] void throw_no_such_layer(const std::string& layer);

  std::function<at::Tensor(const at::Tensor&, const std::function<at::Tensor(const char*, const at::Tensor&)>*,
                           const class RuleApplication*)>
      forward_;
};

// Builds a freshly initialised model. Throws glassbox::Error for an unknown architecture or bad shape.
std::unique_ptr<ModuleClassifier> make_model(const ModelOptions& options);

}  // namespace glassbox::models
