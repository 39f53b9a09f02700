// glassbox evaluate from the command line: the table, the JSON with every sample's values and curves, the
// figures; two ranks giving what one process gives; bad flags, and gradient methods on a model without
// gradients, refused in one line with exit 2 and nothing written. (The metrics' values
// against their definitions: test-evaluate.)
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "test-support.h"

namespace fs = std::filesystem;
using glassbox::testing::idx_images;
using glassbox::testing::idx_labels;
using glassbox::testing::run_command;
using glassbox::testing::write_bytes;

namespace {

// A small trained CNN on 48 images of 12x12, 3 classes; made once per process.
std::string checkpoint(const std::string& dir) {
  fs::create_directories(dir + "/data");
  std::vector<uint8_t> labels;
  for (int i = 0; i < 48; ++i) labels.push_back(static_cast<uint8_t>(i % 3));
  write_bytes(dir + "/data/train-images-idx3-ubyte", idx_images(48, 12, 12));
  write_bytes(dir + "/data/train-labels-idx1-ubyte", idx_labels(labels));
  const auto r = run_command(std::string(GLASSBOX_CLI) + " train --data " + dir + "/data --logdir " + dir +
                             "/run --epochs 1 --quiet --model cnn --conv-channels 2 --hidden 8");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return dir + "/run/checkpoints/best.ckpt";
}

std::string evaluate_cmd(const std::string& dir, const std::string& extra) {
  return std::string(GLASSBOX_CLI) + " evaluate --checkpoint " + dir + "/run/checkpoints/best.ckpt --data " + dir +
         "/data --split train " + extra;
}

}  // namespace

TEST(CliEvaluate, WritesTheTableTheJsonAndTheFigures) {
  const std::string dir = glassbox::testing::scratch_dir("cli-evaluate-ok");
  checkpoint(dir);
  const auto r = run_command(evaluate_cmd(dir, "--index 0:6 --methods saliency,gradcam --metrics deletion,insertion,road,mprt,random_logit,gini "
                                               "--steps 8 --percentages 20,50 --max-steps 3 --perturbations-per-eval 7 --out " + dir + "/ev"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("deletion (lower better)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("saliency mprt: "), std::string::npos) << r.output;
  std::ifstream in(dir + "/ev/evaluation.json");
  const nlohmann::json j = nlohmann::json::parse(in);
  ASSERT_EQ(j["methods"].size(), 2u);
  EXPECT_EQ(j["samples"].size(), 6u);
  EXPECT_EQ(j["methods"][1]["method"], "gradcam");
  EXPECT_TRUE(j["methods"][1].contains("layer"));
  for (const auto& m : j["methods"]) {
    const auto& del = m["metrics"]["deletion"];
    EXPECT_EQ(del["better"], "lower");
    ASSERT_EQ(del["values"].size(), 6u);
    // Each sample's score is the trapezoidal area under its own curve of 9 points.
    const auto& curve = del["curves"][0]["per_sample"][0];
    ASSERT_EQ(curve.size(), 9u);
    double area = 0;
    for (size_t k = 0; k + 1 < curve.size(); ++k) area += (curve[k].get<double>() + curve[k + 1].get<double>()) / 2 / 8;
    EXPECT_NEAR(del["values"][0].get<double>(), area, 1e-9);
    EXPECT_LE(del["ci95"][0].get<double>(), del["mean"].get<double>());
    EXPECT_EQ(m["metrics"]["road"]["curves"].size(), 2u);  // MoRF and LeRF
    EXPECT_EQ(m["metrics"]["mprt"]["steps"].size(), 3u);
    EXPECT_TRUE(m["metrics"]["mprt"].contains("verdict"));
  }
  for (const char* f : {"/ev/curves.png", "/ev/mprt.png"}) {
    std::ifstream png(dir + f, std::ios::binary);
    std::string head(4, '\0');
    png.read(&head[0], 4);
    EXPECT_EQ(head, "\x89PNG") << f;
  }
}

TEST(CliEvaluate, BadFlagsFailInOneLineAndWriteNothing) {
  const std::string dir = glassbox::testing::scratch_dir("cli-evaluate-bad");
  checkpoint(dir);
  const std::string out = dir + "/never";
  for (const auto& [flags, fragment] : std::vector<std::pair<std::string, std::string>>{
           {"--metrics deletion,accuracy", "--metrics accuracy: expected one of deletion"},
           {"--metrics deletion,deletion", "--metrics deletion: expected each metric once"},
           {"--methods layer_ig", "--methods layer_ig: attributes to a layer's activation"},
           {"--methods ig,nosuch", "--methods nosuch"},
           {"--steps 0", "--steps"},
           {"--percentages 10,100", "--percentages 100"},
           {"--percentages 10,x", "--percentages"},
           {"--target top2", "--target top2"},
           {"--deletion-substitute gray", "--deletion-substitute"},
           {"--blur-kernel 4", "--blur-kernel 4"},
           {"--pass-below 2", "--pass-below"},
           {"--index 0:2 --layer conv1 --methods saliency", "--layer conv1"}}) {
    SCOPED_TRACE(flags);
    const auto r = run_command(evaluate_cmd(dir, flags + " --out " + out));
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
    EXPECT_NE(r.output.find(fragment), std::string::npos) << r.output;
    EXPECT_FALSE(fs::exists(out));
  }
}

TEST(CliEvaluate, TwoRanksGiveWhatOneProcessGives) {
  const std::string dir = glassbox::testing::scratch_dir("cli-evaluate-ranks");
  checkpoint(dir);
  const std::string common = "--index 0:7 --methods saliency,gradcam --metrics deletion,infidelity,random_logit --steps 6 --threads 1 ";
  const auto one = run_command(evaluate_cmd(dir, common + "--out " + dir + "/one"));
  ASSERT_EQ(one.exit_code, 0) << one.output;
  const auto two = run_command(evaluate_cmd(dir, common + "--nproc-per-node 2 --out " + dir + "/two"));
  ASSERT_EQ(two.exit_code, 0) << two.output;
  std::ifstream a(dir + "/one/evaluation.json"), b(dir + "/two/evaluation.json");
  const nlohmann::json ja = nlohmann::json::parse(a), jb = nlohmann::json::parse(b);
  // Random draws are seeded per sample, so the ranks' split of the samples changes nothing but rounding.
  for (size_t m = 0; m < 2; ++m)
    for (const char* metric : {"deletion", "infidelity", "random_logit"}) {
      SCOPED_TRACE(std::to_string(m) + metric);
      const auto& va = ja["methods"][m]["metrics"][metric]["values"];
      const auto& vb = jb["methods"][m]["metrics"][metric]["values"];
      ASSERT_EQ(va.size(), 7u);
      ASSERT_EQ(vb.size(), 7u);
      for (size_t i = 0; i < 7; ++i) {
        if (va[i].is_null() || vb[i].is_null()) {
          EXPECT_EQ(va[i].is_null(), vb[i].is_null());
          continue;
        }
        EXPECT_NEAR(va[i].get<double>(), vb[i].get<double>(), 1e-6 * (1 + std::fabs(va[i].get<double>())));
      }
    }
}

TEST(CliEvaluate, AModelWithoutGradientsIsRefusedForGradientMethods) {
  const std::string dir = glassbox::testing::scratch_dir("cli-evaluate-nograd");
  checkpoint(dir);
  std::ofstream(dir + "/make.py") << R"(import sys, json, torch, torch.nn as nn
class Detached(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(144, 3))
    def forward(self, x):
        return self.net(x).detach()
torch.jit.script(Detached().eval()).save(sys.argv[1] + '/detached.pt')
json.dump({'input_shape': [1, 12, 12]}, open(sys.argv[1] + '/detached.json', 'w'))
)";
  const auto made = run_command("/usr/bin/python3 " + dir + "/make.py " + dir + " 2>&1");
  ASSERT_EQ(made.exit_code, 0) << made.output;
  const std::string base = std::string(GLASSBOX_CLI) + " evaluate --torchscript " + dir + "/detached.pt --data " + dir +
                           "/data --split train --index 0:3 --metrics deletion ";
  const auto r = run_command(base + "--methods saliency --out " + dir + "/never");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
  EXPECT_NE(r.output.find("--methods saliency: model"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("gives no gradient to its input"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir + "/never"));
  // A gradient-free method still evaluates it.
  const auto ok = run_command(base + "--methods occlusion --out " + dir + "/occlusion");
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
}
