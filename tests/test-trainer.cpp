// The Trainer: learning, hooks and their context, resume giving the same weights, loggers, errors.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/autograd.h>

#include <fstream>

#include "glassbox/models/checkpoint.h"
#include "glassbox/train/console-logger.h"
#include "glassbox/train/csv-logger.h"
#include "glassbox/train/trainer.h"
#include "glassbox/util/device.h"
#include "glassbox/util/error.h"
#include "test-support.h"

using namespace glassbox;

namespace {

// Two separable classes of 6x6 images: a bright left or a bright right half, with noise.
data::Dataset halves(int64_t n, uint64_t seed) {
  at::Generator gen = at::detail::getDefaultCPUGenerator();
  at::manual_seed(seed);
  at::Tensor labels = at::randint(0, 2, {n}, at::kLong);
  at::Tensor images = at::rand({n, 1, 6, 6}).mul_(80);
  at::Tensor right = labels.view({n, 1, 1, 1}).to(at::kFloat);
  images.narrow(3, 0, 3).add_((1 - right) * 150);
  images.narrow(3, 3, 3).add_(right * 150);
  return data::Dataset(images.to(at::kByte), labels, 2);
}

struct Recorder : train::Callback {
  std::vector<std::string> events;
  std::vector<int64_t> steps;
  bool logits_detached = true, shapes_ok = true;
  void on_fit_start(const train::EpochContext&) override { events.push_back("fit_start"); }
  void on_fit_end(const train::EpochContext&) override { events.push_back("fit_end"); }
  void on_train_epoch_start(const train::EpochContext& c) override { events.push_back("epoch_start" + std::to_string(c.epoch)); }
  void on_train_epoch_end(const train::EpochContext& c) override { events.push_back("epoch_end" + std::to_string(c.epoch)); }
  void on_validation_end(const train::EpochContext&, const std::map<std::string, double>& m) override {
    events.push_back("validation");
    EXPECT_EQ(m.count("val_loss"), 1u);
    EXPECT_EQ(m.count("val_acc"), 1u);
  }
  void on_train_batch_end(const train::BatchContext& c) override {
    steps.push_back(c.global_step);
    logits_detached = logits_detached && !c.logits.requires_grad();
    shapes_ok = shapes_ok && c.x.size(0) == c.y.size(0) && c.logits.size(0) == c.y.size(0) && c.logits.size(1) == 2;
    EXPECT_EQ(c.loss.dim(), 0);
    EXPECT_TRUE(std::isfinite(c.loss.item<double>()));
  }
};

// Runs the model on the batch mid-training, as the explain callbacks do, and checks it leaves the
// parameters' gradients exactly as the training step left them.
struct InputGradientProbe : train::Callback {
  int calls = 0;
  bool grads_untouched = true, mode_restored = true;
  void on_train_batch_end(const train::BatchContext& c) override {
    std::vector<at::Tensor> before;
    for (const auto& p : c.model.parameters()) before.push_back(p.grad().defined() ? p.grad().clone() : at::Tensor());
    const bool was_training = c.model.is_training();
    {
      models::EvalModeGuard eval(c.model);
      at::Tensor x = c.x.detach().clone().requires_grad_(true);
      const at::Tensor score = c.model.forward(x).gather(1, c.y.view({-1, 1})).sum();
      const at::Tensor g = torch::autograd::grad({score}, {x})[0];
      EXPECT_EQ(g.sizes(), x.sizes());
    }
    mode_restored = mode_restored && c.model.is_training() == was_training;
    const auto params = c.model.parameters();
    for (size_t i = 0; i < params.size(); ++i)
      if (before[i].defined()) grads_untouched = grads_untouched && at::equal(before[i], params[i].grad());
    ++calls;
  }
};

}  // namespace

TEST(Trainer, LearnsASeparableProblemAndCallsEveryHookInOrder) {
  const data::Dataset train = halves(512, 1), val = halves(128, 2);
  torch::manual_seed(0);
  auto model = models::make_model(models::ModelOptions("logreg", {1, 6, 6}, 2));
  train::Trainer trainer(train::TrainerOptions().max_epochs(2).batch_size(32).learning_rate(0.01).threads(1).quiet(true));
  auto recorder = std::make_shared<Recorder>();
  auto probe = std::make_shared<InputGradientProbe>();
  trainer.add_callback(recorder);
  trainer.add_callback(probe);
  const train::FitResult r = trainer.fit(*model, {}, train, val);
  EXPECT_GT(r.val_acc, 0.95);
  EXPECT_EQ(r.epochs, 2);
  EXPECT_EQ(r.global_step, 32);
  const std::vector<std::string> expected = {"fit_start", "epoch_start0", "validation", "epoch_end0",
                                             "epoch_start1", "validation", "epoch_end1", "fit_end"};
  EXPECT_EQ(recorder->events, expected);
  ASSERT_EQ(recorder->steps.size(), 32u);
  EXPECT_EQ(recorder->steps.front(), 1);
  EXPECT_EQ(recorder->steps.back(), 32);
  EXPECT_TRUE(recorder->logits_detached);
  EXPECT_TRUE(recorder->shapes_ok);
  EXPECT_EQ(probe->calls, 32);
  EXPECT_TRUE(probe->grads_untouched);
  EXPECT_TRUE(probe->mode_restored);
}

TEST(Trainer, EvaluateMatchesAHandComputation) {
  const data::Dataset val = halves(50, 3);
  auto model = models::make_model(models::ModelOptions("logreg", {1, 6, 6}, 2));
  train::Trainer trainer(train::TrainerOptions().eval_batch_size(7));
  const auto m = trainer.evaluate(*model, {}, val);
  const data::Batch all = val.batch(0, val.size());
  torch::NoGradGuard no_grad;
  const at::Tensor logits = model->forward(all.x);
  const at::Tensor logp = at::log_softmax(logits, 1).gather(1, all.y.view({-1, 1}));
  EXPECT_NEAR(m.at("val_loss"), -logp.mean().item<double>(), 1e-5);
  EXPECT_NEAR(m.at("val_acc"), logits.argmax(1).eq(all.y).to(at::kDouble).mean().item<double>(), 1e-12);
}

TEST(Trainer, ResumeGivesTheSameWeightsAsAnUninterruptedRun) {
  const data::Dataset train = halves(300, 4), val = halves(60, 5);
  const std::string dir = glassbox::testing::scratch_dir("resume");
  auto options = [&](int64_t epochs, const std::string& ckpt_dir) {
    return train::TrainerOptions().max_epochs(epochs).batch_size(16).seed(11).threads(1).quiet(true).checkpoint_dir(ckpt_dir);
  };
  for (const std::string arch : {"mlp", "cnn"}) {
    torch::manual_seed(3);
    auto straight = models::make_model(models::ModelOptions(arch, {1, 6, 6}, 2).hidden(16).conv_channels(4));
    train::Trainer(options(2, dir + "/straight")).fit(*straight, {}, train, val);

    torch::manual_seed(3);
    auto first = models::make_model(models::ModelOptions(arch, {1, 6, 6}, 2).hidden(16).conv_channels(4));
    const train::FitResult r1 = train::Trainer(options(1, dir + "/first")).fit(*first, {}, train, val);
    ASSERT_EQ(r1.epochs, 1);
    auto resumed = models::load_checkpoint(r1.last_checkpoint).model;
    const train::FitResult r2 =
        train::Trainer(options(2, dir + "/second").resume_from(r1.last_checkpoint)).fit(*resumed, {}, train, val);
    EXPECT_EQ(r2.epochs, 2);

    const auto a = straight->parameters(), b = resumed->parameters();
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(at::equal(a[i], b[i])) << arch << " parameter " << i;
    EXPECT_EQ(r2.global_step, 2 * ((300 + 15) / 16));
  }
}

TEST(Trainer, CheckpointsHoldBestAndLastWithMetadata) {
  const data::Dataset train = halves(128, 6), val = halves(64, 7);
  const std::string dir = glassbox::testing::scratch_dir("best-last");
  auto model = models::make_model(models::ModelOptions("logreg", {1, 6, 6}, 2));
  const train::FitResult r =
      train::Trainer(train::TrainerOptions().max_epochs(3).checkpoint_dir(dir).quiet(true)).fit(*model, {}, train, val);
  const models::Checkpoint last = models::load_checkpoint(r.last_checkpoint);
  const models::Checkpoint best = models::load_checkpoint(r.best_checkpoint);
  EXPECT_EQ(last.meta.epoch, 3);
  EXPECT_LE(best.meta.metrics.at("val_loss"), last.meta.metrics.at("val_loss"));
  EXPECT_DOUBLE_EQ(last.meta.metrics.at("best_val_loss"), best.meta.metrics.at("val_loss"));
  EXPECT_NEAR(last.meta.metrics.at("val_loss"), r.val_loss, 1e-12);
}

TEST(Trainer, CsvLoggerGetsStepAndEpochMetrics) {
  const data::Dataset train = halves(64, 8), val = halves(32, 9);
  const std::string dir = glassbox::testing::scratch_dir("csv");
  auto model = models::make_model(models::ModelOptions("logreg", {1, 6, 6}, 2));
  train::Trainer trainer(train::TrainerOptions().max_epochs(2).batch_size(16).log_every_n_steps(1).quiet(true));
  trainer.add_logger(std::make_shared<train::CsvLogger>(dir + "/metrics.csv"));
  trainer.fit(*model, {}, train, val);
  std::ifstream in(dir + "/metrics.csv");
  std::string line;
  int step_rows = 0, val_rows = 0, epoch_rows = 0;
  std::getline(in, line);
  EXPECT_EQ(line, "step,name,value");
  while (std::getline(in, line)) {
    step_rows += line.find(",train_loss_step,") != std::string::npos;
    val_rows += line.find(",val_loss,") != std::string::npos;
    epoch_rows += line.find(",train_loss_epoch,") != std::string::npos;
  }
  EXPECT_EQ(step_rows, 8);
  EXPECT_EQ(val_rows, 2);
  EXPECT_EQ(epoch_rows, 2);
}

TEST(Trainer, RejectsBadOptionsAndMismatchedData) {
  const data::Dataset train = halves(32, 10);
  auto model = models::make_model(models::ModelOptions("logreg", {1, 6, 6}, 2));
  EXPECT_THROW(train::Trainer(train::TrainerOptions().batch_size(0)).fit(*model, {}, train, train), glassbox::Error);
  EXPECT_THROW(train::Trainer(train::TrainerOptions().learning_rate(-1)).fit(*model, {}, train, train), glassbox::Error);
  EXPECT_THROW(train::parse_optimizer("lbfgs"), glassbox::Error);
  EXPECT_THROW(glassbox::parse_device("tpu"), glassbox::Error);
  auto wrong = models::make_model(models::ModelOptions("logreg", {1, 5, 6}, 2));
  EXPECT_THROW(train::Trainer().fit(*wrong, {}, train, train), glassbox::Error);
  // SGD with momentum also learns.
  const train::FitResult r = train::Trainer(train::TrainerOptions().optimizer(train::OptimizerKind::sgd).learning_rate(0.05).max_epochs(3).quiet(true))
                                 .fit(*model, {}, halves(256, 11), halves(64, 12));
  EXPECT_GT(r.val_acc, 0.9);
}

TEST(Trainer, StepMetricsEveryNStepsAndAtEachEpochsEnd) {
  struct Steps : train::Logger {
    std::vector<int64_t> steps;
    void log_metrics(const std::map<std::string, double>& m, int64_t step) override {
      if (m.count("train_loss_step")) steps.push_back(step);
    }
  };
  auto logger = std::make_shared<Steps>();
  auto model = models::make_model(models::ModelOptions("logreg", {1, 6, 6}, 2));
  train::Trainer trainer(train::TrainerOptions().max_epochs(2).batch_size(10).log_every_n_steps(3).quiet(true));
  trainer.add_logger(logger);
  trainer.fit(*model, {}, halves(70, 13), halves(20, 14));  // 7 steps an epoch
  EXPECT_EQ(logger->steps, (std::vector<int64_t>{3, 6, 7, 9, 12, 14}));
}

TEST(ConsoleLogger, PrintsEpochMetricsAndSkipsPerStepOnes) {
  const std::string dir = glassbox::testing::scratch_dir("console");
  std::FILE* f = std::fopen((dir + "/out.txt").c_str(), "w");
  ASSERT_NE(f, nullptr);
  {
    train::ConsoleLogger logger(f);
    logger.log_metrics({{"train_loss_step", 0.5}}, 3);
    logger.log_metrics({{"val_loss", 0.25}, {"val_acc", 0.875}}, 10);
    logger.flush();
  }
  std::fclose(f);
  std::ifstream in(dir + "/out.txt");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "step 10: val_acc 0.8750  val_loss 0.2500\n");
}
