// The built-in architectures and TorchScript modules behind the Classifier interface.
#include <gtest/gtest.h>
#include <torch/nn/module.h>
#include <torch/script.h>

#include "glassbox/models/architectures.h"
#include "glassbox/models/torchscript.h"
#include "glassbox/util/error.h"
#include "test-support.h"

using namespace glassbox::models;

TEST(Models, EveryArchitectureTakesAnyShapeAndClassCount) {
  for (const std::string& arch : architecture_names()) {
    for (const InputShape shape : {InputShape{1, 28, 28}, InputShape{3, 32, 32}, InputShape{2, 9, 13}}) {
      auto model = make_model(ModelOptions(arch, shape, 7));
      const at::Tensor logits = model->forward(at::rand({5, shape.channels, shape.height, shape.width}));
      EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{5, 7})) << arch;
      EXPECT_EQ(model->num_classes(), 7);
    }
  }
}

TEST(Models, LinearIsTheSeedsModelWithReluOnTheLogits) {
  torch::manual_seed(0);
  auto linear = make_model(ModelOptions("linear", {1, 28, 28}, 10));
  // One Linear(784, 10): 7840 weights + 10 biases, as the seed's LitClassifier.
  int64_t count = 0;
  for (const auto& p : linear->parameters()) count += p.numel();
  EXPECT_EQ(count, 7850);
  auto logreg = make_model(ModelOptions("logreg", {1, 28, 28}, 10));
  // Same weights in both: linear's output is exactly relu(logreg's).
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < 2; ++i) logreg->parameters()[i].copy_(linear->parameters()[i]);
  const at::Tensor x = at::randn({16, 1, 28, 28});
  const at::Tensor raw = logreg->forward(x);
  EXPECT_TRUE(at::equal(linear->forward(x), at::relu(raw)));
  EXPECT_LT(raw.min().item<float>(), 0.0f);
  // Analytic truth: logreg(x) = W x + b.
  const at::Tensor W = linear->parameters()[0], b = linear->parameters()[1];
  EXPECT_TRUE(at::allclose(raw, at::matmul(x.flatten(1), W.t()) + b, 1e-4, 1e-5));
}

TEST(Models, ErrorsNameTheProblem) {
  EXPECT_THROW(make_model(ModelOptions("resnet", {1, 28, 28}, 10)), glassbox::Error);
  EXPECT_THROW(make_model(ModelOptions("cnn", {1, 2, 2}, 10)), glassbox::Error);
  EXPECT_THROW(make_model(ModelOptions("mlp", {1, 28, 28}, 1)), glassbox::Error);
  auto model = make_model(ModelOptions("cnn", {1, 28, 28}, 10));
  try {
    model->forward(at::rand({2, 3, 28, 28}));
    FAIL();
  } catch (const glassbox::Error& e) {
    EXPECT_NE(std::string(e.what()).find("[2, 3, 28, 28]"), std::string::npos) << e.what();
  }
}

TEST(Models, EvalModeGuardRestoresTheMode) {
  auto model = make_model(ModelOptions("mlp", {1, 4, 4}, 3));
  model->train(true);
  {
    EvalModeGuard guard(*model);
    EXPECT_FALSE(model->is_training());
  }
  EXPECT_TRUE(model->is_training());
}

namespace {

// A TorchScript module written with the TorchScript compiler: y = x.flatten(1) @ w + bias.
std::string make_script_module(const std::string& path, const std::string& forward_body) {
  torch::jit::Module m("Probe");
  m.register_parameter("w", torch::ones({16, 4}), false);
  m.define("def forward(self, x):\n" + forward_body);
  m.save(path);
  return path;
}

}  // namespace

TEST(TorchScript, LoadsAndRunsAsAClassifier) {
  const std::string dir = glassbox::testing::scratch_dir("torchscript");
  const std::string path = make_script_module(dir + "/ok.pt", "    return x.flatten(1).mm(self.w)\n");
  TorchScriptClassifier model(path, {1, 4, 4});
  EXPECT_EQ(model.num_classes(), 4);
  EXPECT_EQ(model.parameters().size(), 1u);
  const at::Tensor x = at::rand({3, 1, 4, 4});
  // Every column of w is ones: each logit is the sum of the pixels.
  const at::Tensor logits = model.forward(x);
  EXPECT_TRUE(at::allclose(logits.select(1, 2), x.flatten(1).sum(1), 1e-5));
}

TEST(TorchScript, RejectsWrongOutputShapeAndBadFiles) {
  const std::string dir = glassbox::testing::scratch_dir("torchscript-bad");
  const std::string flat = make_script_module(dir + "/flat.pt", "    return x.flatten()\n");
  try {
    TorchScriptClassifier model(flat, {1, 4, 4});
    FAIL();
  } catch (const glassbox::Error& e) {
    EXPECT_NE(std::string(e.what()).find(flat), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("expected [2, classes]"), std::string::npos) << e.what();
  }
  glassbox::testing::write_bytes(dir + "/junk.pt", {1, 2, 3, 4, 5});
  EXPECT_THROW(TorchScriptClassifier(dir + "/junk.pt", {1, 4, 4}), glassbox::Error);
  const std::string ok = make_script_module(dir + "/ok.pt", "    return x.flatten(1).mm(self.w)\n");
  EXPECT_THROW(TorchScriptClassifier(ok, {3, 4, 4}), glassbox::Error);  // 48 inputs into a 16-row matrix
}
