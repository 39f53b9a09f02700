// Checkpoints: round trip, rebuilding from the file alone, corrupt files, atomic writes.
#include <gtest/gtest.h>
#include <torch/optim/adam.h>
#include <unistd.h>

#include <filesystem>

#include "glassbox/models/checkpoint.h"
#include "glassbox/util/error.h"
#include "test-support.h"

using namespace glassbox::models;
namespace fs = std::filesystem;

namespace {

CheckpointMeta meta_for(const ModuleClassifier& m) {
  CheckpointMeta meta;
  meta.architecture = m.options().architecture();
  meta.shape = m.options().shape();
  meta.num_classes = m.options().num_classes();
  meta.hidden = m.options().hidden();
  meta.conv_channels = m.options().conv_channels();
  for (int c = 0; c < meta.num_classes; ++c) meta.class_names.push_back("class" + std::to_string(c));
  meta.normalization = {{0.25, 0.5, 0.75}, {0.1, 0.2, 0.3}};
  meta.normalization.mean.resize(static_cast<size_t>(meta.shape.channels));
  meta.normalization.std.resize(static_cast<size_t>(meta.shape.channels));
  meta.epoch = 3;
  meta.global_step = 1234;
  meta.metrics = {{"val_loss", 0.5}, {"val_acc", 0.875}};
  meta.optimizer = "adam";
  meta.learning_rate = 0.005;
  meta.seed = 9;
  return meta;
}

}  // namespace

TEST(Checkpoint, RoundTripRebuildsTheModelFromTheFileAlone) {
  const std::string dir = glassbox::testing::scratch_dir("ckpt-roundtrip");
  auto model = make_model(ModelOptions("cnn", {3, 12, 12}, 5).hidden(32).conv_channels(4));
  torch::optim::Adam adam(model->parameters(), torch::optim::AdamOptions(0.01));
  const at::Tensor x = at::rand({4, 3, 12, 12});
  const CheckpointMeta meta = meta_for(*model);
  save_checkpoint(dir + "/m.ckpt", *model, &adam, meta);

  Checkpoint back = load_checkpoint(dir + "/m.ckpt");
  EXPECT_EQ(back.meta.architecture, "cnn");
  EXPECT_EQ(back.meta.shape.channels, 3);
  EXPECT_EQ(back.meta.hidden, 32);
  EXPECT_EQ(back.meta.class_names[4], "class4");
  EXPECT_EQ(back.meta.normalization.std[2], 0.3);
  EXPECT_EQ(back.meta.epoch, 3);
  EXPECT_EQ(back.meta.global_step, 1234);
  EXPECT_EQ(back.meta.metrics.at("val_acc"), 0.875);
  EXPECT_EQ(back.meta.seed, 9u);
  model->train(false);
  back.model->train(false);
  EXPECT_TRUE(at::equal(model->forward(x), back.model->forward(x)));
  // Nothing temporary left behind.
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir)) files += e.is_regular_file();
  EXPECT_EQ(files, 1);
}

TEST(Checkpoint, OptimizerStateRoundTrips) {
  const std::string dir = glassbox::testing::scratch_dir("ckpt-optim");
  auto model = make_model(ModelOptions("logreg", {1, 4, 4}, 3));
  torch::optim::Adam adam(model->parameters(), torch::optim::AdamOptions(0.01));
  for (int i = 0; i < 3; ++i) {
    adam.zero_grad();
    model->forward(at::rand({2, 1, 4, 4})).sum().backward();
    adam.step();
  }
  save_checkpoint(dir + "/m.ckpt", *model, &adam, meta_for(*model));
  Checkpoint back = load_checkpoint(dir + "/m.ckpt");
  torch::optim::Adam adam2(back.model->parameters(), torch::optim::AdamOptions(0.01));
  load_optimizer_state(dir + "/m.ckpt", adam2);
  // One more identical step on both gives identical weights only if the moments came back.
  const at::Tensor x = at::rand({2, 1, 4, 4});
  for (auto* pair : {&adam, &adam2}) pair->zero_grad();
  model->forward(x).sum().backward();
  back.model->forward(x).sum().backward();
  adam.step();
  adam2.step();
  EXPECT_TRUE(at::equal(model->parameters()[0], back.model->parameters()[0]));
}

TEST(Checkpoint, CorruptAndForeignFilesAreClearErrors) {
  const std::string dir = glassbox::testing::scratch_dir("ckpt-bad");
  auto model = make_model(ModelOptions("mlp", {1, 8, 8}, 4));
  save_checkpoint(dir + "/good.ckpt", *model, nullptr, meta_for(*model));
  std::ifstream in(dir + "/good.ckpt", std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());

  auto expect_error = [&](const std::string& path, const std::string& fragment) {
    try {
      load_checkpoint(path);
      FAIL() << path;
    } catch (const glassbox::Error& e) {
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
  };
  std::vector<uint8_t> torn(bytes.begin(), bytes.begin() + bytes.size() / 2);
  glassbox::testing::write_bytes(dir + "/torn.ckpt", torn);
  expect_error(dir + "/torn.ckpt", "corrupt");
  glassbox::testing::write_bytes(dir + "/empty.ckpt", {});
  expect_error(dir + "/empty.ckpt", "corrupt");
  glassbox::testing::write_bytes(dir + "/text.ckpt", {'h', 'e', 'l', 'l', 'o'});
  expect_error(dir + "/text.ckpt", "corrupt");
  expect_error(dir + "/missing.ckpt", "no such");
  // A libtorch archive that is not a glassbox checkpoint.
  torch::serialize::OutputArchive foreign;
  foreign.write("w", at::ones({2}));
  foreign.save_to(dir + "/foreign.ckpt");
  expect_error(dir + "/foreign.ckpt", "not a glassbox checkpoint");
  // Flip bytes in the middle of the weights.
  std::vector<uint8_t> flipped = bytes;
  for (size_t i = flipped.size() / 3; i < flipped.size() / 3 + 64; ++i) flipped[i] ^= 0xFF;
  glassbox::testing::write_bytes(dir + "/flipped.ckpt", flipped);
  try {
    load_checkpoint(dir + "/flipped.ckpt");
  } catch (const glassbox::Error& e) {
    EXPECT_NE(std::string(e.what()).find("flipped.ckpt"), std::string::npos);
  }
}

TEST(Checkpoint, FailedWriteLeavesTheOldFileWhole) {
  const std::string dir = glassbox::testing::scratch_dir("ckpt-atomic");
  auto model = make_model(ModelOptions("linear", {1, 4, 4}, 3));
  save_checkpoint(dir + "/m.ckpt", *model, nullptr, meta_for(*model));
  const auto size_before = fs::file_size(dir + "/m.ckpt");
  if (geteuid() == 0) {
    // root ignores permissions: make the directory path a file instead, so creating the temp file fails.
    EXPECT_THROW(save_checkpoint(dir + "/m.ckpt/inner.ckpt", *model, nullptr, meta_for(*model)), glassbox::Error);
  } else {
    fs::permissions(dir, fs::perms::owner_read | fs::perms::owner_exec);
    EXPECT_THROW(save_checkpoint(dir + "/m.ckpt", *model, nullptr, meta_for(*model)), glassbox::Error);
    fs::permissions(dir, fs::perms::owner_all);
  }
  EXPECT_EQ(fs::file_size(dir + "/m.ckpt"), size_before);
  EXPECT_NO_THROW(load_checkpoint(dir + "/m.ckpt"));
}
