// A model that knows its inputs: class names read by one rule, model.json read strictly, and a
// TorchScript model exported from Python with its model.json prepared, run and named exactly as
// Python's torchvision transforms and the module itself do (computed by python3-torch at test time).
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <cstring>
#include <fstream>

#include "glassbox/data/class-names.h"
#include "glassbox/models/architectures.h"
#include "glassbox/models/model-json.h"
#include "glassbox/models/model-source.h"
#include "glassbox/models/model.h"
#include "glassbox/train/trainer.h"
#include "glassbox/util/error.h"
#include "glassbox/util/file-bytes.h"
#include "tensor-files.h"
#include "test-support.h"

using namespace glassbox;
using glassbox::testing::run_command;

namespace {

const std::string kSkimage = "/usr/lib/python3/dist-packages/skimage/data";
const std::string kCli = GLASSBOX_CLI;

std::string error_of(const std::function<void()>& f) { return glassbox::testing::error_message_of<Error>(f); }
using glassbox::testing::parameter_of;

void write(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

using glassbox::testing::raw_floats;

}  // namespace

TEST(ClassNames, OneRuleForEveryFile) {
  const std::string dir = glassbox::testing::scratch_dir("class-names");
  write(dir + "/crlf.txt", "cat\r\n\r\nchien\r\n\xe7\x8c\xab\r\n");  // blank lines skipped, UTF-8 kept
  EXPECT_EQ(data::read_class_names(dir + "/crlf.txt"), (std::vector<std::string>{"cat", "chien", "\xe7\x8c\xab"}));
  EXPECT_EQ(data::read_class_names(dir + "/crlf.txt", 3).size(), 3u);
  std::string what = error_of([&] { data::read_class_names(dir + "/crlf.txt", 4); });
  EXPECT_NE(what.find("crlf.txt: 3 class names, expected 4"), std::string::npos) << what;
  write(dir + "/latin1.txt", "cat\ncaf\xe9\n");
  what = error_of([&] { data::read_class_names(dir + "/latin1.txt"); });
  EXPECT_NE(what.find("latin1.txt: line 2 is not UTF-8 text"), std::string::npos) << what;
  write(dir + "/long.txt", std::string(2000, 'a') + "\n");
  what = error_of([&] { data::read_class_names(dir + "/long.txt"); });
  EXPECT_NE(what.find("line 1 is 2000 bytes long"), std::string::npos) << what;
  write(dir + "/empty.txt", "\n\n");
  what = error_of([&] { data::read_class_names(dir + "/empty.txt"); });
  EXPECT_NE(what.find("empty.txt: no class names"), std::string::npos) << what;
  EXPECT_NE(error_of([&] { data::validate_class_name("a\nb", "x"); }).find("line break"), std::string::npos);
}

TEST(ModelJson, EveryFieldIsCheckedAndNamed) {
  const std::string dir = glassbox::testing::scratch_dir("model-json");
  const std::string good =
      R"({"input_shape": [3, 32, 32], "preprocess": {"channels": "rgb", "resize": 40, "crop": 32},
          "normalization": {"mean": [0.5, 0.4, 0.3], "std": [0.2, 0.25, 0.3]}, "class_names": ["a", "b"]})";
  const models::ModelJson j = models::parse_model_json(good, "m.json");
  EXPECT_EQ(j.input_shape.channels, 3);
  EXPECT_EQ(j.input_shape.width, 32);
  EXPECT_EQ(j.spec.preprocess().resize(), 40);
  EXPECT_EQ(j.spec.preprocess().channels(), data::Channels::rgb);
  EXPECT_EQ(j.spec.normalization().std[1], 0.25);
  EXPECT_EQ(j.spec.class_name(1), "b");
  EXPECT_EQ(j.spec.class_name(7), "7");
  // What glassbox writes, it reads back the same.
  const models::ModelJson back = models::parse_model_json(models::model_json_text(j.input_shape, j.spec), "back.json");
  EXPECT_EQ(back.spec.normalization().mean, j.spec.normalization().mean);
  EXPECT_EQ(back.spec.class_names(), j.spec.class_names());
  EXPECT_EQ(back.spec.preprocess().crop(), 32);
  // Only the shape is required.
  EXPECT_FALSE(models::parse_model_json(R"({"input_shape": [1, 28, 28]})", "m.json").spec.normalization().enabled());

  const std::vector<std::pair<std::string, std::string>> bad = {
      {R"({"input_shape": [3, 32, 32], "normalisation": {}})", "m.json: unknown key 'normalisation'"},
      {R"({"input_shape": [3, 32]})", "m.json: 'input_shape' is an array of 2, expected 3 integers"},
      {R"({"input_shape": "3x32x32"})", "'input_shape' is string"},
      {R"({"input_shape": [3, 0, 32]})", "m.json: 'input_shape' holds 0, expected 1..65536"},
      {R"({"preprocess": {}})", "m.json: no 'input_shape'"},
      {R"({"input_shape": [3, 32, 32], "normalization": {"mean": [0.5, 0.5], "std": [0.2, 0.2]}})",
       "m.json: normalization: 2 values for 3 channels"},
      {R"({"input_shape": [3, 32, 32], "normalization": {"mean": [0.5], "std": [0]}})", "std 0, expected a finite value > 0"},
      {R"({"input_shape": [3, 32, 32], "preprocess": {"channels": "rgb", "resize": 0, "crop": 30}})",
       "m.json: preprocess crop 30 makes 30x30 inputs, but the model takes 32x32"},
      {R"({"input_shape": [3, 32, 32], "preprocess": {"channels": "rgb", "resize": 32768, "crop": 32}})",
       "m.json: preprocess resize 32768 for 32x32 inputs, expected at most 8 times their side"},
      {R"({"input_shape": [1, 32, 32], "preprocess": {"channels": "rgb", "resize": 0, "crop": 0}})",
       "m.json: preprocess channels rgb for a model taking 1 channel(s)"},
      {R"({"input_shape": [3, 32, 32], "preprocess": {"channels": "cmyk", "resize": 0, "crop": 0}})",
       "channels 'cmyk', expected keep, gray or rgb"},
      {R"({"input_shape": [3, 32, 32], "class_names": ["a", 7]})", "m.json: 'class_names' is 7, expected a string"},
      {R"({"input_shape": [3, 32, 32], "class_names": ["a", "b\nc"]})", "m.json: class_names: class name 'b?c' holds a line break"},
      {std::string(200, '[') + std::string(200, ']'), "m.json"},
      {R"({"input_shape": [3, 32, 32],)", "m.json"},
  };
  for (const auto& [text, expected] : bad) {
    SCOPED_TRACE(text.substr(0, 80));
    const std::string what = error_of([&] { models::parse_model_json(text, "m.json"); });
    EXPECT_NE(what.find(expected), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
  }
}

// A small CNN exported from Python with torch.jit.script and a model.json json.dump wrote; Python also
// computes what torchvision's transforms make of two photographs and the module's logits for them.
TEST(Model, ATorchScriptExportWithItsModelJsonIsPreparedAndRunAsPythonDoes) {
  const std::string dir = glassbox::testing::scratch_dir("model-export");
  write(dir + "/export.py", R"(import json, sys
import torch, torchvision.transforms as T
from PIL import Image
torch.manual_seed(3)
net = torch.nn.Sequential(torch.nn.Conv2d(3, 6, 3), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(2),
                          torch.nn.Flatten(), torch.nn.Linear(24, 4)).eval()
d = sys.argv[1]
torch.jit.script(net).save(d + '/net.pt')
mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
json.dump({'input_shape': [3, 48, 48], 'preprocess': {'channels': 'rgb', 'resize': 56, 'crop': 48},
           'normalization': {'mean': mean, 'std': std},
           'class_names': ['chat', 'chien', '\u732b', 'rocket ship']}, open(d + '/net.json', 'w'))
t = T.Compose([T.Resize(56), T.CenterCrop(48), T.ToTensor(), T.Normalize(mean, std)])
x = torch.stack([t(Image.open(f).convert('RGB')) for f in sys.argv[2:]])
open(d + '/x.raw', 'wb').write(x.numpy().tobytes())
with torch.no_grad():
    open(d + '/logits.raw', 'wb').write(net(x).numpy().tobytes())
)");
  const std::string photos = kSkimage + "/chelsea.png " + kSkimage + "/camera.png";  // RGB, and gray made RGB
  const auto r = run_command("/usr/bin/python3 " + dir + "/export.py " + dir + " " + photos);
  ASSERT_EQ(r.exit_code, 0) << r.output;

  const models::Model model = models::load_model(dir + "/net.pt");
  EXPECT_EQ(model.num_classes(), 4);
  EXPECT_EQ(model.input_shape().height, 48);
  EXPECT_EQ(model.class_name(2), "\xe7\x8c\xab");
  const at::Tensor x = model.prepare_files({kSkimage + "/chelsea.png", kSkimage + "/camera.png"});
  const at::Tensor want_x = raw_floats(dir + "/x.raw", {2, 3, 48, 48});
  // Pixels equal Pillow's (test-transforms); what is left is float arithmetic in another order.
  EXPECT_LT((x - want_x).abs().max().item<double>(), 1e-5);
  const at::Tensor want_logits = raw_floats(dir + "/logits.raw", {2, 4});
  EXPECT_LT((model.predict(x) - want_logits).abs().max().item<double>(), 1e-4);
  EXPECT_TRUE(at::equal(model.top_class(x), want_logits.argmax(1)));
  // Back to pixels for display: ToTensor's [0, 1] values.
  const at::Tensor shown = model.to_display(x);
  EXPECT_GE(shown.min().item<double>(), -1e-5);
  EXPECT_LE(shown.max().item<double>(), 1 + 1e-5);

  // The command line reads the same model.json: class names from it, no preprocessing flags needed.
  const auto cli = run_command(kCli + " explain --torchscript " + dir + "/net.pt --image " + kSkimage +
                               "/chelsea.png --method saliency --target top --out " + dir + "/chelsea.png");
  ASSERT_EQ(cli.exit_code, 0) << cli.output;
  const std::string seen = model.class_name(want_logits[0].argmax().item<int64_t>());
  EXPECT_NE(cli.output.find("image chelsea: sees " + seen), std::string::npos) << cli.output;

  // A model.json whose names do not fit the network, or none at all: one line naming the file.
  write(dir + "/three.json", R"({"input_shape": [3, 48, 48], "class_names": ["a", "b", "c"]})");
  std::filesystem::copy_file(dir + "/net.pt", dir + "/three.pt");
  std::string what = error_of([&] { models::load_model(dir + "/three.pt"); });
  EXPECT_NE(what.find("3 class names for a model of 4 classes"), std::string::npos) << what;
  std::filesystem::copy_file(dir + "/net.pt", dir + "/bare.pt");
  what = error_of([&] { models::load_model(dir + "/bare.pt"); });
  EXPECT_NE(what.find("bare.pt: no " + dir + "/bare.json beside it"), std::string::npos) << what;
  // A photograph the specification cannot make the model's size: named, with both sizes.
  const models::Model loose = models::load_torchscript_model(dir + "/net.pt", {3, 48, 48}, models::InputSpec());
  what = error_of([&] { loose.prepare_files({kSkimage + "/rocket.jpg"}); });
  EXPECT_NE(what.find("rocket.jpg: 640x427x3 after preprocessing, but the model takes 48x48x3"), std::string::npos) << what;

  // Opened in two steps: what is known first (the model.json's), then the model.
  models::ModelOpener described(models::ModelSource().torchscript(dir + "/net.pt"));
  ASSERT_TRUE(described.input_shape().has_value());
  EXPECT_EQ(described.spec().preprocess().crop(), 48);
  EXPECT_EQ(described.open({}).class_name(3), "rocket ship");
  // Without model.json: the specification given, the shape of what it reads, the data's class names.
  models::ModelOpener bare(models::ModelSource().torchscript(dir + "/bare.pt").spec(models::InputSpec()));
  EXPECT_FALSE(bare.input_shape().has_value());
  const models::Model opened = bare.open(models::InputShape{3, 40, 40}, {"w", "x", "y", "z"});
  EXPECT_EQ(opened.input_shape().width, 40);
  EXPECT_EQ(opened.class_name(1), "x");
  EXPECT_EQ(parameter_of([&] { models::ModelOpener(models::ModelSource().torchscript(dir + "/bare.pt")).open(); }), "input_shape");
  EXPECT_EQ(parameter_of([&] { models::ModelOpener(models::ModelSource().torchscript(dir + "/net.pt").spec(models::InputSpec())); }),
            "spec");  // beside a model.json, which is the model's one description
  EXPECT_EQ(parameter_of([&] { models::ModelOpener(models::ModelSource()); }), "checkpoint");
}

// Training records the specification it was given; the checkpoint gives it back with the model.
TEST(Model, ACheckpointCarriesTheSpecificationItWasTrainedWith) {
  const std::string dir = glassbox::testing::scratch_dir("model-checkpoint");
  torch::manual_seed(1);
  const data::Dataset d(at::randint(0, 256, {40, 1, 8, 8}, at::kByte), at::randint(0, 3, {40}, at::kLong), 3);
  const models::InputSpec spec = models::InputSpec()
                                     .preprocess(data::Preprocess().normalize({{0.25}, {0.5}}))
                                     .class_names({"north", "south", "\xc3\xa9st"});
  auto net = models::make_model(models::ModelOptions("mlp", {1, 8, 8}, 3).hidden(8));
  const train::FitResult r =
      train::Trainer(train::TrainerOptions().max_epochs(1).batch_size(8).checkpoint_dir(dir).quiet(true)).fit(*net, spec, d, d);
  const models::Model back = models::load_model(r.last_checkpoint);
  EXPECT_EQ(back.spec().class_names(), spec.class_names());
  EXPECT_EQ(back.spec().normalization().mean, std::vector<double>{0.25});
  EXPECT_EQ(back.spec().normalization().std, std::vector<double>{0.5});
  // The normalisation is what the network saw: its logits on pixels made inputs by the spec equal
  // the trained network's own.
  const at::Tensor pixels = d.batch(0, 5).x;
  EXPECT_TRUE(at::allclose(back.predict(back.spec().to_input(pixels)), net->forward(spec.to_input(pixels)), 1e-5, 1e-6));
  // A specification that does not fit the network is refused before training.
  const std::string what = error_of([&] {
    train::Trainer(train::TrainerOptions().quiet(true))
        .fit(*net, models::InputSpec().preprocess(data::Preprocess().normalize({{0.1, 0.2}, {1, 1}})), d, d);
  });
  EXPECT_NE(what.find("input spec normalization: 2 values for 1 channels"), std::string::npos) << what;
}

// Errors about a parameter carry it, its value and the reason as fields; context is added as they travel
// up, outermost first, as c10::Error::add_context.
TEST(Errors, ParametersAndContextAsFields) {
  Error e = Error::about("n_steps", "0", "expected 1..4096");
  EXPECT_EQ(std::string(e.what()), "n_steps '0': expected 1..4096");
  EXPECT_EQ(e.parameter(), "n_steps");
  EXPECT_EQ(e.value(), "0");
  EXPECT_EQ(e.reason(), "expected 1..4096");
  e.add_context("integrated gradients").add_context("explain cat.jpg");
  EXPECT_EQ(std::string(e.what()), "explain cat.jpg: integrated gradients: n_steps '0': expected 1..4096");
  EXPECT_EQ(e.reason(), "expected 1..4096");
  // The library's own checks say which parameter they are about.
  auto net = models::make_model(models::ModelOptions("cnn", {1, 8, 8}, 3).conv_channels(2).hidden(4));
  try {
    net->forward_with_layer(at::zeros({1, 1, 8, 8}), "conv9");
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_EQ(error.parameter(), "layer");
    EXPECT_EQ(error.value(), "conv9");
    EXPECT_NE(error.reason().find("no such layer"), std::string::npos) << error.reason();
  }
  try {
    models::find_architecture("resnet");
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_EQ(error.parameter(), "architecture");
    EXPECT_EQ(error.reason(), "unknown, expected one of linear, logreg, mlp, cnn");
  }
  // And the command line says it in its own terms, from the fields.
  const auto r = run_command(kCli + " explain --checkpoint /nonexistent.ckpt --method ig --ig-method riemann_trapezoid " +
                             "--n-steps 1");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--n-steps 1: riemann_trapezoid needs at least 2"), std::string::npos) << r.output;
}
