// The glassbox tool on real photographs: training a cnn on an RGB image folder (the preprocessing is
// recorded and applied to photographs of any size later), mining it, and explaining photographs through
// the ResNet-18 fixture at 224 x 224 in a batch, drawn in colour.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "glassbox/models/checkpoint.h"
#include "test-support.h"

namespace fs = std::filesystem;
using glassbox::testing::run_command;

namespace {

const std::string kCli = GLASSBOX_CLI;
const std::string kSkimage = "/usr/lib/python3/dist-packages/skimage/data";
const std::string kResnet = std::string(GLASSBOX_SOURCE_DIR) + "/data/models/resnet18.pt";

// A small RGB folder from skimage's photographs: crops of each, two classes.
std::string photo_folder(const std::string& dir) {
  std::ofstream(dir + "/make.py") << R"(import sys, os
from PIL import Image
d = sys.argv[1]
S = "/usr/lib/python3/dist-packages/skimage/data"
for cls, files in (("animals", ["chelsea.png", "horse.png", "coffee.png"]), ("machines", ["rocket.jpg", "motorcycle_left.png", "astronaut.png"])):
    os.makedirs(f"{d}/photos/{cls}", exist_ok=True)
    for f in files:
        im = Image.open(f"{S}/{f}").convert("RGB")
        for k in range(6):
            w, h = im.size
            box = (k * w // 12, k * h // 12, w - k * w // 24, h - k * h // 24)
            im.crop(box).save(f"{d}/photos/{cls}/{f.split('.')[0]}-{k}.jpg" if k % 2 else f"{d}/photos/{cls}/{f.split('.')[0]}-{k}.png")
)";
  EXPECT_EQ(run_command("/usr/bin/python3 " + dir + "/make.py " + dir).exit_code, 0);
  return dir + "/photos";
}

// Whether the figure's first panel is in colour: some pixels whose channels differ.
bool has_colour(const std::string& png_path) {
  int w = 0, h = 0;
  const auto px = glassbox::testing::decode_png(glassbox::testing::read_all(png_path), w, h);
  size_t coloured = 0;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w / 3; ++x) {
      const uint8_t* p = &px[(size_t(y) * w + x) * 3];
      coloured += std::abs(p[0] - p[1]) > 30 || std::abs(p[1] - p[2]) > 30;
    }
  return coloured > 1000;
}

}  // namespace

TEST(CliImages, TrainOnAPhotoFolderThenExplainAndMineWithTheRecordedPreprocessing) {
  const std::string dir = glassbox::testing::scratch_dir("cli-images-train");
  const std::string photos = photo_folder(dir);
  auto r = run_command(kCli + " train --data " + photos + " --model cnn --conv-channels 4 --hidden 16 --epochs 2 " +
                       "--resize 40 --crop 32 --channels rgb --train-size 30 --logdir " + dir + "/run");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("image folder, 3x32x32"), std::string::npos) << r.output;
  const glassbox::models::CheckpointFile ckpt(dir + "/run/checkpoints/last.ckpt");
  EXPECT_EQ(ckpt.meta().preprocess.resize(), 40);
  EXPECT_EQ(ckpt.meta().preprocess.crop(), 32);
  EXPECT_EQ(ckpt.meta().class_names, (std::vector<std::string>{"animals", "machines"}));
  // A photograph of any size goes through the recorded Resize(40), CenterCrop(32).
  r = run_command(kCli + " explain --checkpoint " + dir + "/run/checkpoints/last.ckpt --image " + kSkimage +
                  "/coffee.png --method ig --n-steps 8 --target top --out " + dir + "/coffee.png");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(has_colour(dir + "/coffee.png"));
  // Preprocessing flags belong to TorchScript models: a checkpoint has its own.
  r = run_command(kCli + " explain --checkpoint " + dir + "/run/checkpoints/last.ckpt --resize 64 --image " + kSkimage +
                  "/coffee.png --out " + dir + "/x.png");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--resize is for TorchScript models"), std::string::npos) << r.output;
  // Mining the folder, and a resumed run, both with the recorded preprocessing.
  r = run_command(kCli + " confused --checkpoint " + dir + "/run/checkpoints/last.ckpt --data " + photos +
                  " --top 3 --out " + dir + "/confused");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(nlohmann::json::parse(glassbox::testing::read_all(dir + "/confused/index.json"))["samples"], 36);
  r = run_command(kCli + " train --data " + photos + " --epochs 3 --train-size 30 --quiet --logdir " + dir +
                  "/run --resume " + dir + "/run/checkpoints/last.ckpt");
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

TEST(CliImages, ExplainPhotographsThroughTheResnetFixtureAsOneBatch) {
  ASSERT_TRUE(fs::exists(kResnet)) << kResnet << " (scripts/setup makes it)";
  const std::string dir = glassbox::testing::scratch_dir("cli-images-resnet");
  auto r = run_command(kCli + " explain --torchscript " + kResnet + " --image " + kSkimage + "/astronaut.png " + kSkimage +
                       "/rocket.jpg " + kSkimage + "/camera.png --method ig --n-steps 4 " +
                       "--target 7 --out " + dir + "/photo.png --save-tensor " + dir + "/attr.pt");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* name : {"astronaut", "rocket", "camera"}) EXPECT_TRUE(fs::exists(dir + "/photo-" + name + ".png")) << name;
  EXPECT_TRUE(has_colour(dir + "/photo-astronaut.png"));
  EXPECT_FALSE(has_colour(dir + "/photo-camera.png"));  // a gray photograph, made RGB as convert("RGB") does
  const auto py = run_command("/usr/bin/python3 -c \"import torch; t = torch.load('" + dir +
                              "/attr.pt'); print(list(t.shape), t.dtype)\"");
  EXPECT_EQ(py.exit_code, 0) << py.output;
  EXPECT_NE(py.output.find("[3, 3, 224, 224] torch.float32"), std::string::npos) << py.output;
  // The preprocessing came from resnet18.json beside the model; flags that would contradict it are refused.
  r = run_command(kCli + " explain --torchscript " + kResnet + " --image " + kSkimage + "/astronaut.png --preprocess none" +
                  " --out " + dir + "/x.png");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--preprocess: " + kResnet.substr(0, kResnet.size() - 3) + ".json describes"), std::string::npos)
      << r.output;
  // The same file without its model.json, photographs of different sizes and no preprocessing that makes
  // them one: one error that says so.
  fs::create_hard_link(kResnet, dir + "/bare.pt");
  r = run_command(kCli + " explain --torchscript " + dir + "/bare.pt --image " + kSkimage + "/astronaut.png " + kSkimage +
                  "/rocket.jpg --out " + dir + "/x.png");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("rocket.jpg: 640x427x3 after preprocessing"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir + "/x.png"));
}

TEST(CliImages, SeveralDatasetSamplesAsOneBatch) {
  const std::string dir = glassbox::testing::scratch_dir("cli-images-batch");
  ASSERT_EQ(run_command(kCli + " train --data mnist --model logreg --epochs 1 --quiet --train-size 2000 --logdir " + dir +
                        "/run")
                .exit_code,
            0);
  const auto r = run_command(kCli + " explain --checkpoint " + dir + "/run/checkpoints/best.ckpt --data mnist " +
                             "--index 0:4 --method saliency --target top --out " + dir + "/digit.png --save-tensor " +
                             dir + "/a.pt");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(fs::exists(dir + "/digit-" + std::to_string(i) + ".png")) << i;
  const auto py = run_command("/usr/bin/python3 -c \"import torch; print(list(torch.load('" + dir + "/a.pt').shape))\"");
  EXPECT_NE(py.output.find("[4, 1, 28, 28]"), std::string::npos) << py.output;
  const auto list = run_command(kCli + " explain --checkpoint " + dir + "/run/checkpoints/best.ckpt --data mnist " +
                                "--index 5,9 --target 3 --out " + dir + "/pair.png");
  EXPECT_EQ(list.exit_code, 0) << list.output;
  EXPECT_TRUE(fs::exists(dir + "/pair-5.png") && fs::exists(dir + "/pair-9.png"));
}

TEST(CliImages, LayersAndCamsFromTheCommandLine) {
  const std::string dir = glassbox::testing::scratch_dir("cli-images-cams");
  ASSERT_EQ(run_command(kCli + " train --data mnist --model cnn --conv-channels 4 --hidden 16 --epochs 1 --quiet " +
                        "--train-size 1000 --logdir " + dir + "/run --callbacks attribution --attribution-method gradcam " +
                        "--probes 3")
                .exit_code,
            0);
  const std::string ckpt = " --checkpoint " + dir + "/run/checkpoints/best.ckpt";
  auto r = run_command(kCli + " layers" + ckpt + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const nlohmann::json layers = nlohmann::json::parse(r.output);
  EXPECT_EQ(layers["default_cam_layer"], "conv2");
  EXPECT_EQ(layers["layers"][1]["shape"], nlohmann::json({8, 14, 14}));
  // Every layer method through explain, with the layer said when it is the default.
  for (const char* method : {"gradcam", "gradcampp", "hirescam", "eigencam", "scorecam", "layer_gxa", "layer_ig"}) {
    r = run_command(kCli + " explain" + ckpt + " --data mnist --index 0:2 --method " + method + " --target top --out " + dir +
                    "/" + method + ".png --save-tensor " + dir + "/" + method + ".pt");
    EXPECT_EQ(r.exit_code, 0) << method << ": " << r.output;
    EXPECT_NE(r.output.find("layer conv2 (the last that reads as a map and whose positions the score depends on"), std::string::npos) << r.output;
    EXPECT_TRUE(fs::exists(dir + "/" + method + "-0.png") && fs::exists(dir + "/" + method + "-1.png")) << method;
  }
  const auto py = run_command("/usr/bin/python3 -c \"import torch; print(list(torch.load('" + dir +
                              "/gradcam.pt').shape), list(torch.load('" + dir + "/layer_gxa.pt').shape))\"");
  EXPECT_NE(py.output.find("[2, 1, 28, 28] [2, 8, 14, 14]"), std::string::npos) << py.output;
  // confused draws a CAM column (4 columns: wider than the 3-column figure).
  r = run_command(kCli + " confused" + ckpt + " --data mnist --top 1 --out " + dir + "/conf");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  int w = 0, h = 0;
  for (const auto& e : fs::directory_iterator(dir + "/conf"))
    if (e.path().filename().string().rfind("rank000", 0) == 0)
      glassbox::testing::decode_png(glassbox::testing::read_all(e.path().string()), w, h);
  EXPECT_GT(w, 2 * h) << w << "x" << h;
  // Bad layers: one line naming --layer, nothing written.
  struct Case {
    std::string args;
    std::vector<std::string> fragments;
  };
  for (const Case& c : std::vector<Case>{
           {"--method gradcam --layer conv9", {"--layer conv9", "no such layer (conv1, conv2, fc1, fc2)"}},
           {"--method gradcam --layer fc1", {"--layer fc1", "CAM methods need N x C x H x W"}},
           {"--method layer_gxa --layer fc2", {"--layer fc2", "output layer"}},
           {"--method saliency --layer conv2", {"--layer conv2", "works on the input"}},
       }) {
    r = run_command(kCli + " explain" + ckpt + " --data mnist " + c.args + " --out " + dir + "/bad.png");
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
    for (const auto& f : c.fragments) EXPECT_NE(r.output.find(f), std::string::npos) << r.output << " lacks " << f;
  }
  // The seed's linear model has no layer for CAMs (its only layer is the output).
  ASSERT_EQ(run_command(kCli + " train --data mnist --model linear --epochs 1 --quiet --train-size 1000 --logdir " + dir +
                        "/lin")
                .exit_code,
            0);
  r = run_command(kCli + " explain --checkpoint " + dir + "/lin/checkpoints/best.ckpt --data mnist --method gradcam " +
                  "--layer l1 --out " + dir + "/bad.png");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--layer l1"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir + "/bad.png"));
}
