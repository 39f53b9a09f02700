// The glassbox CLI end to end: bad input gives one line and exit 2 with nothing half-written;
// a good run prints its summary and writes the JSON it promises.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include <torch/script.h>

#include "glassbox/models/architectures.h"
#include "glassbox/models/checkpoint.h"
#include "glassbox/render/png.h"
#include "test-support.h"

namespace fs = std::filesystem;
using glassbox::testing::idx_images;
using glassbox::testing::idx_labels;
using glassbox::testing::run_command;
using glassbox::testing::write_bytes;

namespace {

// A small valid IDX dataset: 48 images of 8x8, labels cycling over 3 classes.
std::string make_dataset(const std::string& dir) {
  fs::create_directories(dir);
  std::vector<uint8_t> labels;
  for (int i = 0; i < 48; ++i) labels.push_back(static_cast<uint8_t>(i % 3));
  write_bytes(dir + "/train-images-idx3-ubyte", idx_images(48, 8, 8));
  write_bytes(dir + "/train-labels-idx1-ubyte", idx_labels(labels));
  return dir;
}

std::string train_cmd(const std::string& data, const std::string& logdir, const std::string& extra = "",
                      int epochs = 1) {
  return std::string(GLASSBOX_CLI) + " train --data " + data + " --logdir " + logdir + " --epochs " +
         std::to_string(epochs) + " --quiet " + extra;
}

size_t count_files(const std::string& dir) {
  if (!fs::exists(dir)) return 0;
  size_t n = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) n += e.is_regular_file();
  return n;
}

// Runs a command that must fail: exit 2, exactly one line, naming `fragments`; no checkpoint or summary.
void expect_clean_failure(const std::string& cmd, const std::string& logdir, std::initializer_list<std::string> fragments) {
  const auto r = run_command(cmd);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
  EXPECT_EQ(r.output.rfind("glassbox: error: ", 0), 0u) << r.output;
  for (const auto& f : fragments) EXPECT_NE(r.output.find(f), std::string::npos) << r.output << " lacks " << f;
  EXPECT_EQ(count_files(logdir + "/checkpoints"), 0u) << "half-written output in " << logdir;
  EXPECT_FALSE(fs::exists(logdir + "/summary.json"));
}

}  // namespace

TEST(Cli, TrainsAndWritesTheSummary) {
  const std::string dir = glassbox::testing::scratch_dir("cli-ok");
  const std::string data = make_dataset(dir + "/data");
  const auto r = run_command(train_cmd(data, dir + "/run", "--model mlp --batch-size 8 --summary-json " + dir + "/s.json"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("val_acc"), std::string::npos);
  EXPECT_NE(r.output.find("samples/s"), std::string::npos);
  std::ifstream in(dir + "/s.json");
  const nlohmann::json j = nlohmann::json::parse(in);
  for (const char* key : {"val_loss", "val_acc", "epochs", "seconds", "samples_per_s", "checkpoint"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_EQ(j["epochs"], 1);
  EXPECT_TRUE(fs::exists(j["checkpoint"].get<std::string>()));
  EXPECT_TRUE(fs::exists(dir + "/run/metrics.csv"));
  // Resume it for a second epoch.
  const auto r2 = run_command(train_cmd(data, dir + "/run2", "--resume " + j["checkpoint"].get<std::string>(), 2));
  EXPECT_EQ(r2.exit_code, 0) << r2.output;
}

TEST(Cli, HelpForTheToolAndTheCommand) {
  const auto top = run_command(std::string(GLASSBOX_CLI) + " --help");
  EXPECT_EQ(top.exit_code, 0);
  EXPECT_NE(top.output.find("train"), std::string::npos);
  const auto sub = run_command(std::string(GLASSBOX_CLI) + " train --help");
  EXPECT_EQ(sub.exit_code, 0);
  EXPECT_NE(sub.output.find("--summary-json"), std::string::npos);
}

TEST(Cli, BadFlagValues) {
  const std::string dir = glassbox::testing::scratch_dir("cli-flags");
  const std::string data = make_dataset(dir + "/data");
  expect_clean_failure(train_cmd(data, dir + "/a", "--model resnet"), dir + "/a", {"--model", "resnet"});
  expect_clean_failure(train_cmd(data, dir + "/b", "--batch-size 0"), dir + "/b", {"--batch-size", "0"});
  expect_clean_failure(train_cmd(data, dir + "/c", "--lr -1"), dir + "/c", {"--lr", "-1"});
  expect_clean_failure(train_cmd(data, dir + "/d", "--device tpu"), dir + "/d", {"--device", "tpu"});
  expect_clean_failure(train_cmd(data, dir + "/e", "--threads -2"), dir + "/e", {"--threads", "-2"});
  expect_clean_failure(train_cmd(data, dir + "/f", "--train-size 48"), dir + "/f", {"--train-size", "48"});
  // Flags are checked before anything is created.
  for (const char* run : {"/a", "/b", "/c", "/d", "/e"}) EXPECT_FALSE(fs::exists(dir + run)) << run;
}

TEST(Cli, MalformedIdxFiles) {
  const std::string dir = glassbox::testing::scratch_dir("cli-idx");
  struct Case {
    std::string name;
    std::vector<uint8_t> images, labels;
    std::vector<std::string> fragments;
  };
  std::vector<uint8_t> labels48;
  for (int i = 0; i < 48; ++i) labels48.push_back(static_cast<uint8_t>(i % 3));
  std::vector<uint8_t> truncated = idx_images(48, 8, 8);
  truncated.resize(truncated.size() - 100);
  std::vector<uint8_t> bad_magic = idx_images(48, 8, 8);
  bad_magic[3] = 0x02;
  std::vector<uint8_t> out_of_range = labels48;
  out_of_range[5] = 200;
  const std::vector<Case> cases = {
      {"truncated", truncated, idx_labels(labels48), {"train-images-idx3-ubyte", "truncated", "3088"}},
      {"magic", bad_magic, idx_labels(labels48), {"train-images-idx3-ubyte", "0x00000802", "0x00000803"}},
      {"counts", idx_images(47, 8, 8), idx_labels(labels48), {"train-labels-idx1-ubyte", "48 labels", "47 images"}},
      {"labels", idx_images(48, 8, 8), idx_labels(out_of_range), {"train-labels-idx1-ubyte", "label 200", "index 5"}},
      {"empty", {}, idx_labels(labels48), {"train-images-idx3-ubyte", "empty"}},
  };
  for (const Case& c : cases) {
    const std::string data = dir + "/" + c.name;
    fs::create_directories(data);
    write_bytes(data + "/train-images-idx3-ubyte", c.images);
    write_bytes(data + "/train-labels-idx1-ubyte", c.labels);
    // Labels out of range need a known class count: classes.txt names 3 classes.
    if (c.name == "labels") std::ofstream(data + "/classes.txt") << "a\nb\nc\n";
    SCOPED_TRACE(c.name);
    const auto r = run_command(train_cmd(data, dir + "/run-" + c.name));
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
    for (const auto& f : c.fragments) EXPECT_NE(r.output.find(f), std::string::npos) << r.output << " lacks " << f;
    EXPECT_EQ(count_files(dir + "/run-" + c.name + "/checkpoints"), 0u);
  }
}

TEST(Cli, MissingDatasetAndDirectoryWithoutFiles) {
  const std::string dir = glassbox::testing::scratch_dir("cli-missing");
  fs::create_directories(dir + "/emptydir");
  expect_clean_failure(train_cmd(dir + "/emptydir", dir + "/a"), dir + "/a", {"emptydir", "not a dataset"});
  expect_clean_failure(train_cmd(dir + "/nothere", dir + "/b"), dir + "/b", {"nothere", "no such directory"});
  expect_clean_failure(train_cmd("no-such-name", dir + "/c"), dir + "/c", {"no-such-name", "no such dataset"});
}

TEST(Cli, CorruptCheckpointAndUnwritableLogdir) {
  const std::string dir = glassbox::testing::scratch_dir("cli-ckpt");
  const std::string data = make_dataset(dir + "/data");
  write_bytes(dir + "/bad.ckpt", {'P', 'K', 3, 4, 0, 0, 1, 2, 3});
  expect_clean_failure(train_cmd(data, dir + "/a", "--resume " + dir + "/bad.ckpt"), dir + "/a", {"bad.ckpt", "too short for a zip archive"});
  // A logdir under a regular file cannot be created, even by root.
  std::ofstream(dir + "/file") << "x";
  const auto r = run_command(train_cmd(data, dir + "/file/run"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find(dir + "/file/run"), std::string::npos) << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
}

TEST(Cli, EventsListsRunsTagsAndDumpsImages) {
  const std::string dir = glassbox::testing::scratch_dir("cli-events");
  const std::string data = make_dataset(dir + "/data");
  ASSERT_EQ(run_command(train_cmd(data, dir + "/logs/run-a", "", 2)).exit_code, 0);
  const auto r = run_command(std::string(GLASSBOX_CLI) + " events " + dir + "/logs --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const nlohmann::json j = nlohmann::json::parse(r.output);
  ASSERT_EQ(j["runs"].size(), 1u);
  EXPECT_EQ(j["runs"][0]["run"], "run-a");
  std::map<std::string, nlohmann::json> tags;
  for (const auto& t : j["runs"][0]["tags"]) tags[t["tag"].get<std::string>()] = t;
  for (const char* tag : {"train_loss_step", "train_loss_epoch", "val_loss", "val_acc", "lr"}) {
    ASSERT_EQ(tags.count(tag), 1u) << tag;
    EXPECT_EQ(tags[tag]["kind"], "scalar");
  }
  EXPECT_EQ(tags["val_loss"]["count"], 2);
  EXPECT_EQ(tags["train_loss_step"]["count"], 2);  // 44 training images, batch 64: one step an epoch
  EXPECT_EQ(tags["train_loss_step"]["first_step"], 1);

  const std::string golden = std::string(GLASSBOX_SOURCE_DIR) + "/../shared/fixtures/tensorboard";
  if (fs::exists(golden)) {
    const auto d = run_command(std::string(GLASSBOX_CLI) + " events " + golden + " --tag probe --dump " + dir + "/dump");
    ASSERT_EQ(d.exit_code, 0) << d.output;
    EXPECT_TRUE(fs::exists(dir + "/dump/probe-step5-0.png")) << d.output;
    const auto text = run_command(std::string(GLASSBOX_CLI) + " events " + golden);
    EXPECT_NE(text.output.find("weights"), std::string::npos);
    EXPECT_NE(text.output.find("histogram"), std::string::npos);
  }
}

TEST(Cli, EventsOnMissingOrEmptyPathsAndDamagedFiles) {
  const std::string dir = glassbox::testing::scratch_dir("cli-events-bad");
  const auto missing = run_command(std::string(GLASSBOX_CLI) + " events " + dir + "/nothere");
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.output.find("nothere"), std::string::npos);
  const auto empty = run_command(std::string(GLASSBOX_CLI) + " events " + dir);
  EXPECT_EQ(empty.exit_code, 2);
  EXPECT_NE(empty.output.find("no event files"), std::string::npos);
  // A damaged file is listed up to the damage, with the offset.
  write_bytes(dir + "/events.out.tfevents.1.x", {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13});
  const auto damaged = run_command(std::string(GLASSBOX_CLI) + " events " + dir);
  EXPECT_EQ(damaged.exit_code, 0) << damaged.output;
  EXPECT_NE(damaged.output.find("damaged"), std::string::npos) << damaged.output;
  EXPECT_NE(damaged.output.find("at byte 0"), std::string::npos) << damaged.output;
}

namespace {

// A trained checkpoint on the small dataset, made once per test.
std::string trained_checkpoint(const std::string& dir) {
  const std::string data = make_dataset(dir + "/data");
  const auto r = run_command(train_cmd(data, dir + "/run", "--model cnn --conv-channels 2 --hidden 8", 1));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return dir + "/run/checkpoints/best.ckpt";
}

std::string explain_cmd(const std::string& dir, const std::string& model_flags, const std::string& extra) {
  return std::string(GLASSBOX_CLI) + " explain " + model_flags + " --data " + dir + "/data --split train " + extra;
}

void expect_one_line_error(const glassbox::testing::CommandResult& r, std::initializer_list<std::string> fragments) {
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
  for (const auto& f : fragments) EXPECT_NE(r.output.find(f), std::string::npos) << r.output << " lacks " << f;
}

}  // namespace

TEST(Cli, ExplainMorphAndConfusedWriteTheirFiles) {
  const std::string dir = glassbox::testing::scratch_dir("cli-explain");
  const std::string ckpt = trained_checkpoint(dir);
  const std::string model = "--checkpoint " + ckpt;
  auto ok = [](const glassbox::testing::CommandResult& r) { EXPECT_EQ(r.exit_code, 0) << r.output; };
  ok(run_command(explain_cmd(dir, model, "--index 3 --out " + dir + "/top2.png --save-tensor " + dir + "/a.pt")));
  ok(run_command(explain_cmd(dir, model, "--index 3 --target 1 --method ig --out " + dir + "/ig.png")));
  ok(run_command(explain_cmd(dir, model, "--index 3 --target 2 --method occlusion --window 2 --stride 1 --out " + dir + "/occ.png")));
  ok(run_command(explain_cmd(dir, model, std::string("--index 3 --target 2 --method smoothgrad --nt-type vargrad --nt-samples 3 ") +
                                     "--score log_softmax --out " + dir + "/vg.png")));
  // The methods that change the backward pass and the attacks, on the built-in model.
  ok(run_command(explain_cmd(dir, model, "--index 3 --target 1 --method guided_gradcam --layer conv2 --out " + dir + "/ggc.png")));
  ok(run_command(explain_cmd(dir, model, "--index 3 --target 1 --method lrp --lrp-composite epsilon_plus --lrp-epsilon 0.25 --out " +
                                             dir + "/lrp.png")));
  ok(run_command(explain_cmd(dir, model, "--index 3 --target 1 --method gradient_shap --shap-samples 3 --n-baselines 2 --out " +
                                             dir + "/gs.png")));
  // Forward-only methods on superpixels, and one that needs a batch.
  ok(run_command(explain_cmd(dir, model, "--index 3 --target 1 --method lime --feature-mask superpixels --n-segments 12 "
                                         "--n-samples 30 --lime-alpha 0.5 --out " + dir + "/lime.png")));
  ok(run_command(explain_cmd(dir, model, "--index 3,4 --target 1 --method feature_permutation --feature-size 7 --save-tensor " +
                                             dir + "/fp.pt --out " + dir + "/fp.png")));
  for (const char* f : {"/top2.png", "/ig.png", "/occ.png", "/vg.png", "/a.pt", "/ggc.png", "/lrp.png", "/gs.png", "/lime.png", "/fp.pt"})
    EXPECT_TRUE(fs::exists(dir + f)) << f;
  const auto alone = run_command(explain_cmd(dir, model, "--index 3 --method feature_permutation --out " + dir + "/fp1.png"));
  EXPECT_EQ(alone.exit_code, 2) << alone.output;
  EXPECT_NE(alone.output.find("at least 2"), std::string::npos) << alone.output;
  EXPECT_FALSE(fs::exists(dir + "/fp1.png"));
  const auto bad_mask = run_command(explain_cmd(dir, model, "--index 3 --method lime --feature-mask voronoi --out " + dir + "/x.png"));
  EXPECT_EQ(bad_mask.exit_code, 2);
  EXPECT_NE(bad_mask.output.find("--feature-mask"), std::string::npos) << bad_mask.output;
  const auto bad_composite = run_command(explain_cmd(dir, model, "--index 3 --method lrp --lrp-composite zennit --out " + dir + "/x.png"));
  EXPECT_EQ(bad_composite.exit_code, 2);
  EXPECT_NE(bad_composite.output.find("--lrp-composite"), std::string::npos) << bad_composite.output;
  const auto pgd = run_command(std::string(GLASSBOX_CLI) + " morph " + model + " --data " + dir + "/data --split train --index 0 " +
                               "--target 2 --engine pgd --norm linf --eps 0.1 --step-size 0.02 --steps 5 --out " + dir + "/pgd.png");
  ok(pgd);
  EXPECT_TRUE(fs::exists(dir + "/pgd.png"));
  const auto no_budget = run_command(std::string(GLASSBOX_CLI) + " morph " + model + " --data " + dir +
                                     "/data --split train --index 0 --target 2 --engine fgsm --out " + dir + "/fgsm.png");
  EXPECT_EQ(no_budget.exit_code, 2);
  EXPECT_NE(no_budget.output.find("--eps"), std::string::npos) << no_budget.output;
  EXPECT_FALSE(fs::exists(dir + "/fgsm.png"));
  ok(run_command(std::string(GLASSBOX_CLI) + " morph " + model + " --data " + dir + "/data --split train --index 0 " +
                 "--target 2 --steps 5 --out " + dir + "/m.gif"));
  std::ifstream gif(dir + "/m.gif", std::ios::binary);
  std::string head(6, '\0');
  gif.read(&head[0], 6);
  EXPECT_EQ(head, "GIF89a");
  ok(run_command(std::string(GLASSBOX_CLI) + " confused " + model + " --data " + dir + "/data --split train --top 3 --out " +
                 dir + "/conf"));
  std::ifstream in(dir + "/conf/index.json");
  const nlohmann::json j = nlohmann::json::parse(in);
  EXPECT_EQ(j["samples"], 48);
  EXPECT_EQ(j["ranked"].size(), 3u);
  EXPECT_LE(j["ranked"][0]["gap"].get<double>(), j["ranked"][1]["gap"].get<double>());
  EXPECT_TRUE(fs::exists(dir + "/conf/pairs.png"));
  // The saved attribution is a torch.save file: Python's torch.load reads it (when python3-torch is there).
  if (run_command("/usr/bin/python3 -c 'import torch'").exit_code == 0) {
    const auto py = run_command("/usr/bin/python3 -c \"import torch; t = torch.load('" + dir +
                                "/a.pt'); print(list(t.shape), t.dtype)\"");
    EXPECT_EQ(py.exit_code, 0) << py.output;
    EXPECT_NE(py.output.find("[1, 1, 8, 8] torch.float32"), std::string::npos) << py.output;
  }
}

TEST(Cli, ExplainBadInputs) {
  const std::string dir = glassbox::testing::scratch_dir("cli-explain-bad");
  const std::string ckpt = trained_checkpoint(dir);
  const std::string model = "--checkpoint " + ckpt;
  expect_one_line_error(run_command(explain_cmd(dir, model, "--index 0 --target 7 --out " + dir + "/x.png")),
                        {"--target 7", "out of range"});
  expect_one_line_error(run_command(explain_cmd(dir, model, "--index 48 --out " + dir + "/x.png")),
                        {"--index 48", "48 samples"});
  // An image of the wrong size.
  std::vector<uint8_t> pixels(5 * 5, 100);
  const std::string small = glassbox::render::encode_png(pixels.data(), 5, 5, 1);
  write_bytes(dir + "/small.png", std::vector<uint8_t>(small.begin(), small.end()));
  expect_one_line_error(run_command(explain_cmd(dir, model, "--image " + dir + "/small.png --out " + dir + "/x.png")),
                        {"small.png", "5x5", "8x8"});
  // A gray picture for an RGB model is converted as PIL's convert("RGB") does: it explains.
  auto rgb = glassbox::models::make_model(glassbox::models::ModelOptions("mlp", {3, 8, 8}, 3));
  glassbox::models::CheckpointMeta meta;
  meta.model = rgb->options();
  meta.class_names = {"a", "b", "c"};
  meta.learning_rate = 0.001;
  glassbox::models::save_checkpoint(dir + "/rgb.ckpt", *rgb, nullptr, meta);
  std::vector<uint8_t> gray(8 * 8, 100);
  const std::string gray_png = glassbox::render::encode_png(gray.data(), 8, 8, 1);
  write_bytes(dir + "/gray.png", std::vector<uint8_t>(gray_png.begin(), gray_png.end()));
  const auto converted = run_command(std::string(GLASSBOX_CLI) + " explain --checkpoint " + dir + "/rgb.ckpt --image " +
                                     dir + "/gray.png --target 1 --out " + dir + "/converted.png");
  EXPECT_EQ(converted.exit_code, 0) << converted.output;
  EXPECT_TRUE(fs::exists(dir + "/converted.png"));
  // TorchScript models: output not [B, classes]; NaN logits.
  torch::jit::Module flat("Flat");
  flat.define("def forward(self, x):\n    return x.flatten()\n");
  flat.save(dir + "/flat.pt");
  expect_one_line_error(run_command(explain_cmd(dir, "--torchscript " + dir + "/flat.pt", "--index 0 --out " + dir + "/x.png")),
                        {"flat.pt", "expected [2, classes]"});
  torch::jit::Module nan("Nan");
  nan.register_parameter("w", torch::ones({64, 3}), false);
  nan.define("def forward(self, x):\n    return x.flatten(1).mm(self.w) * float('nan')\n");
  nan.save(dir + "/nan.pt");
  expect_one_line_error(run_command(explain_cmd(dir, "--torchscript " + dir + "/nan.pt", "--index 0 --out " + dir + "/x.png")),
                        {"non-finite logits"});
  expect_one_line_error(run_command(explain_cmd(dir, model, "--method gradcam2 --out " + dir + "/x.png")), {"--method gradcam2"});
  expect_one_line_error(run_command(explain_cmd(dir, model, "--method ig --ig-method simpson --out " + dir + "/x.png")),
                        {"--ig-method", "simpson"});
  expect_one_line_error(run_command(explain_cmd(dir, model, "--score odds --out " + dir + "/x.png")), {"--score", "odds"});
  EXPECT_FALSE(fs::exists(dir + "/x.png"));
}

TEST(Cli, TrainWithCallbacks) {
  const std::string dir = glassbox::testing::scratch_dir("cli-callbacks");
  const std::string data = make_dataset(dir + "/data");
  const std::string all = "--model mlp --hidden 8 --batch-size 8 --callbacks confused,attribution,morph "
                          "--confused-interval 1 --confused-min-logit -1e9 --confused-max-diff 1e9 --probes 2 "
                          "--morph-probes 1 --morph-steps 2 --attribution-method saliency";
  // To TensorBoard.
  ASSERT_EQ(run_command(train_cmd(data, dir + "/tb", all, 1)).exit_code, 0);
  const auto listing = run_command(std::string(GLASSBOX_CLI) + " events " + dir + "/tb");
  for (const char* tag : {"confusing_imgs/image/0", "attributions/saliency", "morph/probe0", "confused_logit/figures_logged"})
    EXPECT_NE(listing.output.find(tag), std::string::npos) << tag << " missing in\n" << listing.output;
  // Without TensorBoard: PNG/GIF files under LOGDIR/figures, the callbacks' scalars in metrics.csv.
  ASSERT_EQ(run_command(train_cmd(data, dir + "/files", all + " --no-tensorboard", 1)).exit_code, 0);
  EXPECT_GT(count_files(dir + "/files/figures/confusing_imgs_image_0"), 0u);
  EXPECT_EQ(count_files(dir + "/files/figures/attributions_saliency"), 2u);  // before training and after epoch 1
  EXPECT_EQ(count_files(dir + "/files/figures/morph_probe0"), 1u);
  EXPECT_NE(glassbox::testing::read_all(dir + "/files/metrics.csv").find(",confused_logit/figures_logged,"),
            std::string::npos);
  for (const auto& e : fs::recursive_directory_iterator(dir + "/files"))
    EXPECT_EQ(e.path().filename().string().find("tfevents"), std::string::npos) << e.path();
  // Errors.
  expect_one_line_error(run_command(std::string(GLASSBOX_CLI) + " train --data " + data + " --quiet --callbacks confused"),
                        {"--callbacks", "--logdir"});
  expect_one_line_error(run_command(train_cmd(data, dir + "/bad", "--callbacks gradcam", 1)), {"--callbacks gradcam"});
  expect_one_line_error(run_command(train_cmd(data, dir + "/bad", "--callbacks attribution --attribution-method x", 1)),
                        {"--attribution-method x"});
  EXPECT_FALSE(fs::exists(dir + "/bad")) << "a bad flag left files behind";
}
