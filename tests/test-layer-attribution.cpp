// Layer attribution against independent truth: on a model ending in conv -> global average pooling ->
// linear, Grad-CAM and HiResCAM equal CAM (Zhou et al. 2016) computed from the weights; Eigen-CAM equals
// the projection on the first principal direction found by an eigendecomposition; on TorchScript modules
// scripted in Python (that GAP model and torchvision's ResNet-18), every method the hooks-based Python
// reference computes equals it; layers are listed and reached on built-in models, on ResNet-18's nested
// blocks and on a scripted Sequential's children; parameters' .grad untouched, mode restored, and bad
// layers one-line errors.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/script.h>

#include <filesystem>
#include <map>
#include <set>

#include "glassbox/explain/layer-attribution.h"
#include "glassbox/explain/methods.h"
#include "glassbox/models/architectures.h"
#include "glassbox/models/torchscript.h"
#include "glassbox/util/error.h"
#include "glassbox/util/file-bytes.h"
#include "glassbox/util/zip-archive.h"
#include "test-support.h"

using namespace glassbox;
using namespace glassbox::explain;
namespace fs = std::filesystem;

namespace {

std::string reference_script() {
  for (const char* dir : std::initializer_list<const char*>{std::getenv("GLASSBOX_REFERENCE"), GLASSBOX_SOURCE_DIR "/../shared/reference"})
    if (dir && fs::exists(std::string(dir) + "/gradcam_reference.py")) return std::string(dir) + "/gradcam_reference.py";
  return "";
}

// What the reference computed (torch.save of a dict), read back after its container is checked.
struct Reference {
  at::Tensor input, targets, cam, cam_upsampled;
};

Reference read_reference(const std::string& path) {
  const std::string bytes = read_file(path);
  ZipArchive check(bytes, path);  // nothing unverified goes to libtorch's loaders
  const c10::IValue v = torch::jit::pickle_load(std::vector<char>(bytes.begin(), bytes.end()));
  const auto dict = v.toGenericDict();
  return {dict.at("input").toTensor(), dict.at("targets").toTensor(), dict.at("cam").toTensor(),
          dict.at("cam_upsampled").toTensor()};
}

// Runs the reference: the model's TorchScript file and, per method, its results on its inputs.
std::map<std::string, Reference> run_reference(const std::string& dir, const std::string& arch, const std::string& layer,
                                               int size, int batch, const std::vector<std::string>& methods) {
  std::map<std::string, Reference> out;
  for (const std::string& m : methods) {
    const auto r = glassbox::testing::run_command("/usr/bin/python3 " + reference_script() + " --arch " + arch +
                                                  " --layer " + layer + " --method " + m + " --size " +
                                                  std::to_string(size) + " --batch " + std::to_string(batch) +
                                                  " --repeat 1 --seed 3 --save-torchscript " + dir + "/" + arch +
                                                  ".pt --save " + dir + "/" + m + ".pt");
    EXPECT_EQ(r.exit_code, 0) << r.output;
    out[m] = read_reference(dir + "/" + m + ".pt");
  }
  return out;
}

double relative_error(const at::Tensor& ours, const at::Tensor& theirs) {
  return ((ours.to(at::kDouble) - theirs.to(at::kDouble)).abs().max() / theirs.to(at::kDouble).abs().max().clamp_min(1e-30))
      .item<double>();
}

at::Tensor run(const std::string& method, models::Classifier& model, const at::Tensor& x, const at::Tensor& t,
               const std::string& layer, bool upsample) {
  return find_attribution_method(method).attribute(
      {model, x, t, AttributeOptions().layer(LayerOptions().layer(layer).upsample(upsample).internal_batch_size(32))});
}

std::string error_of(const std::function<void()>& f) { return glassbox::testing::error_message_of<glassbox::Error>(f); }

}  // namespace

TEST(LayerAttribution, GapModelGradCamAndHiResCamEqualCamFromTheWeights) {
  if (reference_script().empty()) GTEST_SKIP() << "gradcam_reference.py not found (set GLASSBOX_REFERENCE)";
  const std::string dir = glassbox::testing::scratch_dir("layer-gap-cam");
  const auto ref = run_reference(dir, "cnn", "features", 32, 4, {"gradcam"});
  // The truth from the module itself, read without glassbox: A = features(x), W = fc.weight.
  torch::jit::Module m = torch::jit::load(dir + "/cnn.pt");
  m.eval();
  const at::Tensor x = ref.at("gradcam").input, t = ref.at("gradcam").targets;
  torch::NoGradGuard no_grad;
  const at::Tensor A = m.attr("features").toModule().forward({x}).toTensor();  // [B, K, h, w]
  const at::Tensor W = m.attr("fc").toModule().attr("weight").toTensor();      // [classes, K]
  const int64_t hw = A.size(2) * A.size(3);
  const at::Tensor cam = at::relu((W.index_select(0, t).view({-1, A.size(1), 1, 1}) * A).sum(1)) / double(hw);
  models::TorchScriptClassifier model(dir + "/cnn.pt", {3, 32, 32});
  at::Tensor ours;
  {
    torch::AutoGradMode enable(true);
    ours = run("gradcam", model, x, t, "features", false).squeeze(1);
  }
  EXPECT_LT(relative_error(ours, cam), 1e-5);
  torch::AutoGradMode enable(true);
  EXPECT_LT(relative_error(run("hirescam", model, x, t, "features", false).squeeze(1), cam), 1e-5);
  // Layer Gradient x Activation: A times the gradient, which is W[t, k] / (h w) everywhere.
  const at::Tensor gxa = run("layer_gxa", model, x, t, "features", false);
  EXPECT_LT(relative_error(gxa, A * W.index_select(0, t).view({-1, A.size(1), 1, 1}) / double(hw)), 1e-5);
}

TEST(LayerAttribution, EqualTheHooksBasedReferenceOnTorchScriptModules) {
  if (reference_script().empty()) GTEST_SKIP() << "gradcam_reference.py not found (set GLASSBOX_REFERENCE)";
  const std::string dir = glassbox::testing::scratch_dir("layer-reference");
  struct Model {
    std::string arch, layer;
    int size, batch;
  };
  // The GAP model at its Sequential and at a child of it; ResNet-18 at layer4 and at a nested conv.
  for (const Model& mdl : {Model{"cnn", "features", 32, 3}, Model{"cnn", "features.3", 32, 3},
                           Model{"resnet18", "layer4", 64, 2}, Model{"resnet18", "layer3.1.conv2", 64, 2}}) {
    SCOPED_TRACE(mdl.arch + " " + mdl.layer);
    const std::string sub = dir + "/" + mdl.arch + "-" + mdl.layer;
    fs::create_directories(sub);
    // Grad-CAM++ and Score-CAM follow pytorch-grad-cam's conventions, which this reference does not
    // (LayersOverwrittenInPlaceAreReadAsTheyWereProduced checks them).
    const auto ref = run_reference(sub, mdl.arch, mdl.layer, mdl.size, mdl.batch, {"gradcam", "hirescam"});
    models::TorchScriptClassifier model(sub + "/" + mdl.arch + ".pt", {3, mdl.size, mdl.size});
    for (const auto& [method, r] : ref) {
      SCOPED_TRACE(method);
      EXPECT_LT(relative_error(run(method, model, r.input, r.targets, mdl.layer, false).squeeze(1), r.cam), 1e-5);
      EXPECT_LT(relative_error(run(method, model, r.input, r.targets, mdl.layer, true).squeeze(1), r.cam_upsampled), 1e-5);
    }
  }
}

TEST(LayerAttribution, EigenCamIsTheProjectionOnTheFirstPrincipalDirection) {
  torch::manual_seed(11);
  auto m = models::make_model(models::ModelOptions("cnn", {3, 12, 12}, 4).conv_channels(6).hidden(8));
  const at::Tensor x = at::rand({3, 3, 12, 12}), t = at::tensor({0L, 1L, 3L});
  const at::Tensor ours = run("eigencam", *m, x, t, "conv2", false).squeeze(1);
  const models::LayerForward f = m->forward_with_layer(x, "conv2");
  for (int64_t b = 0; b < 3; ++b) {
    // Independently: the eigenvector of the covariance (C^T C) with the largest eigenvalue.
    const at::Tensor A = f.activation[b].detach().to(at::kDouble);
    const at::Tensor M = A.reshape({A.size(0), -1}).t();  // positions x channels
    const at::Tensor C = M - M.mean(0, true);
    const auto [values, vectors] = at::linalg_eigh(C.t().matmul(C));
    at::Tensor p = C.matmul(vectors.select(1, vectors.size(1) - 1));
    // The documented sign: positive correlation with the channel-summed activation.
    const at::Tensor s = M.sum(1);
    if ((p * (s - s.mean())).sum().item<double>() < 0) p = -p;
    EXPECT_LT(relative_error(ours[b], at::relu(p).reshape({A.size(1), A.size(2)})), 1e-4) << b;
  }
}

TEST(LayerAttribution, LayerIntegratedGradientsSumToTheScoreDifference) {
  torch::manual_seed(12);
  auto m = models::make_model(models::ModelOptions("cnn", {1, 8, 8}, 3).conv_channels(4).hidden(16));
  const at::Tensor x = at::rand({2, 1, 8, 8}), t = at::tensor({2L, 0L});
  const at::Tensor attr = find_attribution_method("layer_ig").attribute(
      {*m, x, t, AttributeOptions().layer(LayerOptions().layer("conv1")).integrated_gradients(IntegratedGradientsOptions().n_steps(200))});
  torch::NoGradGuard no_grad;
  const at::Tensor fx = m->forward(x).gather(1, t.view({-1, 1})).squeeze(1);
  const at::Tensor fb = m->forward(at::zeros_like(x)).gather(1, t.view({-1, 1})).squeeze(1);
  EXPECT_LT((attr.flatten(1).sum(1) - (fx - fb)).abs().max().item<double>(), 2e-3 * (fx - fb).abs().max().item<double>() + 1e-4);
}

TEST(LayerAttribution, ParametersUntouchedModeRestoredAndLayersListed) {
  torch::manual_seed(13);
  auto m = models::make_model(models::ModelOptions("cnn", {2, 8, 8}, 3).conv_channels(4).hidden(8));
  const std::vector<models::LayerInfo> layers = m->layers();
  ASSERT_EQ(layers.size(), 4u);
  EXPECT_EQ(layers[0].name, "conv1");
  EXPECT_EQ(layers[0].shape, (std::vector<int64_t>{4, 8, 8}));
  EXPECT_EQ(layers[1].shape, (std::vector<int64_t>{8, 4, 4}));
  EXPECT_EQ(layers[3].name, "fc2");
  EXPECT_EQ(default_cam_layer(*m), "conv2");
  for (auto& p : m->parameters()) p.mutable_grad() = at::full_like(p, 0.25);
  m->train(true);
  const at::Tensor x = at::rand({2, 2, 8, 8}), t = at::tensor({0L, 2L});
  for (const AttributionMethod* method : attribution_methods())
    if (method->uses_layer()) {
      const at::Tensor a = method->attribute({*m, x, t, AttributeOptions()});
      EXPECT_TRUE(at::isfinite(a).all().item<bool>()) << method->name();
    }
  for (auto& p : m->parameters()) EXPECT_TRUE(at::equal(p.grad(), at::full_like(p, 0.25)));
  EXPECT_TRUE(m->is_training());
  // The backward stops at the layer: a gradient taken there leaves the parameters without one.
  auto fresh = models::make_model(models::ModelOptions("cnn", {2, 8, 8}, 3).conv_channels(4).hidden(8));
  run("gradcam", *fresh, x, t, "conv2", true);
  for (auto& p : fresh->parameters()) EXPECT_FALSE(p.grad().defined());
}

TEST(LayerAttribution, BadLayersAreOneLineErrors) {
  auto cnn = models::make_model(models::ModelOptions("cnn", {1, 8, 8}, 3).conv_channels(4).hidden(8));
  const at::Tensor x = at::rand({1, 1, 8, 8}), t = at::tensor({1L});
  std::string what = error_of([&] { run("gradcam", *cnn, x, t, "conv9", true); });
  EXPECT_NE(what.find("no such layer (conv1, conv2, fc1, fc2)"), std::string::npos) << what;
  what = error_of([&] { run("gradcam", *cnn, x, t, "fc1", true); });
  EXPECT_NE(what.find("CAM methods need N x C x H x W"), std::string::npos) << what;
  what = error_of([&] { run("layer_gxa", *cnn, x, t, "fc2", true); });
  EXPECT_NE(what.find("it is the output layer"), std::string::npos) << what;
  auto linear = models::make_model(models::ModelOptions("linear", {1, 8, 8}, 3));
  what = error_of([&] { run("gradcam", *linear, x, t, "", true); });
  EXPECT_NE(what.find("no layer that reads as a map (N x C x H x W, N x H x W x C or tokens)"), std::string::npos) << what;
  what = error_of([&] { run("layer_ig", *linear, x, t, "l1", true); });
  EXPECT_NE(what.find("it is the output layer"), std::string::npos) << what;
}

TEST(LayerAttribution, ResnetLayersAreListedWithTheirShapes) {
  const std::string resnet = GLASSBOX_SOURCE_DIR "/data/models/resnet18.pt";
  if (!fs::exists(resnet)) GTEST_SKIP() << resnet << " missing (scripts/setup makes it)";
  models::TorchScriptClassifier m(resnet, {3, 64, 64});
  const std::vector<models::LayerInfo> layers = m.layers();
  std::map<std::string, models::LayerInfo> by_name;
  for (const auto& l : layers) by_name[l.name] = l;
  EXPECT_EQ(by_name.at("layer4").shape, (std::vector<int64_t>{512, 2, 2}));
  EXPECT_EQ(by_name.at("layer3.1.conv2").shape, (std::vector<int64_t>{256, 4, 4}));
  EXPECT_EQ(by_name.at("layer1.0.relu").calls, 2);  // BasicBlock calls its ReLU twice
  EXPECT_EQ(by_name.at("fc").shape, (std::vector<int64_t>{1000}));
  EXPECT_EQ(default_cam_layer(m), "layer4");
}

// A scripted DenseNet calls each dense layer through forward__0 (torchvision overloads its forward for a
// tensor or a list of them): those layers are listed, as a traced file lists them, and reached.
TEST(LayerAttribution, OverloadedForwardsOfAScriptedDenseNetAreLayers) {
  const std::string dir = glassbox::testing::scratch_dir("layer-densenet");
  const auto r = glassbox::testing::run_command(
      "/usr/bin/python3 -c \"import torch, torchvision; torch.manual_seed(0); "
      "m = torchvision.models.densenet121(weights=None).eval(); "
      "torch.jit.script(m).save('" + dir + "/scripted.pt'); "
      "torch.jit.trace(m, torch.rand(1, 3, 64, 64)).save('" + dir + "/traced.pt')\"");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  models::TorchScriptClassifier scripted(dir + "/scripted.pt", {3, 64, 64}), traced(dir + "/traced.pt", {3, 64, 64});
  const std::vector<models::LayerInfo> s = scripted.layers(), t = traced.layers();
  std::set<std::string> scripted_names, traced_names;
  for (const auto& l : s) scripted_names.insert(l.name);
  for (const auto& l : t) traced_names.insert(l.name);
  EXPECT_EQ(scripted_names, traced_names);
  EXPECT_EQ(scripted_names.count("features.denseblock2.denselayer3.conv2"), 1u);
  const at::Tensor x = at::rand({1, 3, 64, 64}), target = at::tensor({4L});
  const at::Tensor a = run("gradcam", scripted, x, target, "features.denseblock2.denselayer3.conv2", false);
  const at::Tensor b = run("gradcam", traced, x, target, "features.denseblock2.denselayer3.conv2", false);
  EXPECT_LT(relative_error(a, b), 1e-4);
}

// A layer whose output later ops overwrite in place (BatchNorm followed by ReLU(inplace=True), and a
// BatchNorm whose output takes `+= identity`): every method must see the value the layer produced, as
// computed in Python without hooks or in-place ops; Grad-CAM++ and Score-CAM with pytorch-grad-cam's
// conventions (the 1e-6 in alpha's denominator; masks upsampled with align_corners=True).
TEST(LayerAttribution, LayersOverwrittenInPlaceAreReadAsTheyWereProduced) {
  const std::string dir = glassbox::testing::scratch_dir("layer-in-place");
  const auto r = glassbox::testing::run_command("/usr/bin/python3 " GLASSBOX_SOURCE_DIR "/tests/in_place_block_truth.py " + dir);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string bytes = read_file(dir + "/truth.pt");
  ZipArchive check(bytes, "truth.pt");
  const auto truth = torch::jit::pickle_load(std::vector<char>(bytes.begin(), bytes.end())).toGenericDict();
  const at::Tensor x = truth.at("input").toTensor(), t = truth.at("targets").toTensor();
  models::TorchScriptClassifier model(dir + "/block.pt", {3, 12, 12});
  torch::AutoGradMode enable(true);
  for (const std::string layer : {"bn", "bn2"})
    for (const std::string method : {"gxa", "gradcam", "gradcampp", "scorecam"}) {
      SCOPED_TRACE(layer + " " + method);
      const at::Tensor expected = truth.at(layer + "." + method).toTensor();
      at::Tensor ours = run(method == "gxa" ? "layer_gxa" : method, model, x, t, layer, false);
      if (method != "gxa") ours = ours.squeeze(1);
      EXPECT_LT(relative_error(ours, expected), 1e-5);
    }
  // Layer Integrated Gradients moves the activation itself (Captum's definition): equal to it, and complete
  // although the network after either layer is not linear (ReLU, a residual add, pooling).
  for (const std::string layer : {"bn", "bn2"}) {
    SCOPED_TRACE(layer + " layer_ig");
    const at::Tensor ours = find_attribution_method("layer_ig").attribute(
        {model, x, t, AttributeOptions().layer(LayerOptions().layer(layer)).integrated_gradients(IntegratedGradientsOptions().n_steps(50))});
    EXPECT_LT(relative_error(ours, truth.at(layer + ".layer_ig").toTensor()), 1e-4);
    const at::Tensor gap = truth.at(layer + ".score_gap").toTensor();
    EXPECT_LT((ours.flatten(1).sum(1) - gap).abs().max().item<double>(), 1e-2 * gap.abs().max().item<double>());
  }
}
