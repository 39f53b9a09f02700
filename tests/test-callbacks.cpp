// The callbacks: the seed's defects fixed (per-sample rule, top_k, vanished gradients, any channel
// count, parameters' gradients untouched under gradient accumulation), logged figures recomputed one
// sample at a time, figures as files when there is no TensorBoard, and faithfulness logged per epoch.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <png.h>
#include <torch/nn/functional/loss.h>

#include <filesystem>
#include <map>
#include <set>

#include "glassbox/callbacks/confused-logit.h"
#include "glassbox/callbacks/faithfulness-callback.h"
#include "glassbox/evaluate/faithfulness.h"
#include "glassbox/explain/attribution.h"
#include "glassbox/callbacks/probe-callbacks.h"
#include "glassbox/explain/figures.h"
#include "glassbox/models/architectures.h"
#include "glassbox/tensorboard/event-reader.h"
#include "glassbox/train/image-file-logger.h"
#include "glassbox/train/tensorboard-logger.h"
#include "glassbox/train/trainer.h"
#include "glassbox/util/error.h"
#include "test-support.h"

using namespace glassbox;
namespace fs = std::filesystem;

namespace {

// No preprocessing and no class names: figures show the inputs as they are, classes by index.
const models::InputSpec kNoSpec;

// A logreg over 3 pixels whose logits are 10x its pixels: the test picks the logits through the data.
std::unique_ptr<models::ModuleClassifier> pixel_logits(bool relu = false) {
  auto m = models::make_model(models::ModelOptions(relu ? "linear" : "logreg", {1, 1, 3}, 3));
  torch::NoGradGuard no_grad;
  m->parameters()[0].copy_(at::eye(3) * 10);
  m->parameters()[1].zero_();
  return m;
}

void fire(callbacks::ConfusedLogitCallback& cb, models::Classifier& m, const at::Tensor& x, const at::Tensor& y,
          int64_t step, const std::shared_ptr<train::Logger>& logger) {
  const at::Tensor logits = m.forward(x).detach();
  const at::Tensor loss = at::zeros({});
  const train::BatchContext ctx{m, kNoSpec, x, y, logits, loss, 19, step, 0, logger};  // batch index 19: the 20th batch
  cb.on_train_batch_end(ctx);
}

std::shared_ptr<train::Logger> figure_files(const std::string& dir) { return std::make_shared<train::ImageFileLogger>(dir); }

std::vector<int64_t> steps_of(const std::vector<tensorboard::Event>& events) {
  std::vector<int64_t> steps;
  for (const auto& e : events) steps.push_back(e.step);
  return steps;
}

}  // namespace

TEST(ConfusedLogit, PerSampleRuleTopKAndAnyChannelCount) {
  const std::string dir = glassbox::testing::scratch_dir("cb-rule");
  auto m = pixel_logits();
  const auto sink = figure_files(dir);
  callbacks::ConfusedLogitCallback cb(callbacks::ConfusedLogitOptions(1).keep_history(true));
  // logits = 10 * pixels: sample 0 confused (6.0 vs 5.95), sample 1 confused but its top is 0.9 < 5,
  // sample 2 clear, sample 3 confused (7.0 vs 6.99): the most confused first, cut to top_k = 1.
  const at::Tensor x = at::tensor({0.6f, 0.595f, 0.0f, 0.09f, 0.089f, 0.0f, 0.9f, 0.1f, 0.0f, 0.0f, 0.7f, 0.699f}).view({4, 1, 1, 3});
  fire(cb, *m, x, at::tensor({0L, 1L, 0L, 2L}), 20, sink);
  cb.on_fit_end({*m, kNoSpec, 1, 20, sink});
  const auto s = cb.stats();
  EXPECT_EQ(s.confused_seen, 2);  // per sample: the batch-wide max (9.0) does not let sample 1 in
  EXPECT_EQ(s.figures_logged, 1);
  const auto h = cb.history();
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h[0].class_a, 1);  // sample 3: the smallest gap (0.01)
  EXPECT_EQ(h[0].class_b, 2);
  EXPECT_EQ(h[0].label, 2);
  EXPECT_EQ(fs::exists(dir + "/confusing_imgs_image_0"), true);

  // Three channels: no channel axis dropped (the seed's view(B, w, h) crashed on RGB).
  auto rgb = models::make_model(models::ModelOptions("mlp", {3, 6, 6}, 4).hidden(8));
  callbacks::ConfusedLogitCallback any(callbacks::ConfusedLogitOptions(2).min_logit_value(-1e9).max_logit_difference(1e9));
  fire(any, *rgb, at::rand({3, 3, 6, 6}), at::tensor({0L, 1L, 2L}), 40, sink);
  any.on_fit_end({*rgb, kNoSpec, 1, 40, sink});
  EXPECT_EQ(any.stats().figures_logged, 2);
  // Where nothing records (ranks other than 0), the callback does no work.
  const std::shared_ptr<train::Logger> silent = std::make_shared<train::LoggerList>();
  callbacks::ConfusedLogitCallback idle(callbacks::ConfusedLogitOptions(2).min_logit_value(-1e9).max_logit_difference(1e9));
  fire(idle, *rgb, at::rand({3, 3, 6, 6}), at::tensor({0L, 1L, 2L}), 40, silent);
  idle.on_fit_end({*rgb, kNoSpec, 1, 40, silent});
  EXPECT_EQ(idle.stats().batches_checked, 0);
}

TEST(ConfusedLogit, VanishedGradientsAreSkippedAndCounted) {
  const std::string dir = glassbox::testing::scratch_dir("cb-vanished");
  auto m = pixel_logits(/*relu=*/true);  // the seed's model: ReLU on the logits
  callbacks::ConfusedLogitCallback cb(callbacks::ConfusedLogitOptions(4).min_logit_value(0));
  const auto sink = figure_files(dir);
  // All-zero pixels: every logit is 0, the top two tie: "confused" by the rule, with zero gradients.
  fire(cb, *m, at::zeros({2, 1, 1, 3}), at::tensor({0L, 1L}), 20, sink);
  cb.on_fit_end({*m, kNoSpec, 1, 20, sink});
  EXPECT_EQ(cb.stats().confused_seen, 2);
  EXPECT_EQ(cb.stats().skipped_vanished, 2);
  EXPECT_EQ(cb.stats().figures_logged, 0);
  EXPECT_FALSE(fs::exists(dir + "/confusing_imgs_image_0"));
}

TEST(ConfusedLogit, ParameterGradientsUntouchedUnderGradientAccumulation) {
  torch::manual_seed(3);
  auto m = models::make_model(models::ModelOptions("mlp", {1, 4, 4}, 3).hidden(8));
  const at::Tensor x1 = at::rand({8, 1, 4, 4}), x2 = at::rand({8, 1, 4, 4});
  const at::Tensor y1 = at::randint(0, 3, {8}, at::kLong), y2 = at::randint(0, 3, {8}, at::kLong);
  const std::string dir = glassbox::testing::scratch_dir("cb-accumulate");
  const auto sink = figure_files(dir);
  auto accumulate = [&](callbacks::ConfusedLogitCallback* cb) {
    for (auto& p : m->parameters()) p.mutable_grad() = at::Tensor();
    const at::Tensor l1 = m->forward(x1);
    torch::nn::functional::cross_entropy(l1, y1).backward();
    if (cb) cb->on_train_batch_end({*m, kNoSpec, x1, y1, l1.detach(), at::zeros({}), 19, 20, 0, sink});  // between two micro-batches
    torch::nn::functional::cross_entropy(m->forward(x2), y2).backward();
    std::vector<at::Tensor> grads;
    for (auto& p : m->parameters()) grads.push_back(p.grad().clone());
    return grads;
  };
  const auto reference = accumulate(nullptr);
  callbacks::ConfusedLogitCallback cb(callbacks::ConfusedLogitOptions(8).min_logit_value(-1e9).max_logit_difference(1e9));
  const auto with_callback = accumulate(&cb);
  cb.on_fit_end({*m, kNoSpec, 1, 20, sink});
  EXPECT_GT(cb.stats().figures_logged, 0);  // it did compute input gradients
  ASSERT_EQ(reference.size(), with_callback.size());
  for (size_t i = 0; i < reference.size(); ++i) EXPECT_TRUE(at::equal(reference[i], with_callback[i])) << i;
}

TEST(ConfusedLogit, EveryLoggedFigureIsRecomputedOneSampleAtATime) {
  // Train with the callback logging to TensorBoard; snapshot the weights at each logging batch; then
  // recompute every logged figure from its sample alone and compare it with the one in the event file.
  const std::string dir = glassbox::testing::scratch_dir("cb-recompute");
  torch::manual_seed(5);
  const at::Tensor images = at::randint(0, 256, {320, 1, 6, 6}, at::kByte);
  const data::Dataset train(images, at::randint(0, 3, {320}, at::kLong), 3), val = train;
  auto model = models::make_model(models::ModelOptions("mlp", {1, 6, 6}, 3).hidden(16));
  auto tensorboard = std::make_shared<train::TensorBoardLogger>(dir);
  auto cb = std::make_shared<callbacks::ConfusedLogitCallback>(
      callbacks::ConfusedLogitOptions(2).min_logit_value(-1e9).max_logit_difference(0.5).logging_batch_interval(2)
          .keep_history(true));
  struct Snapshots : train::Callback {
    std::map<int64_t, std::vector<at::Tensor>> at_step;
    void on_train_batch_end(const train::BatchContext& c) override {
      if ((c.batch_index + 1) % 2 == 0)
        for (auto& p : c.model.parameters()) at_step[c.global_step].push_back(p.detach().clone());
    }
  };
  auto snapshots = std::make_shared<Snapshots>();
  const std::string events_path = tensorboard->path();
  {
    train::Trainer trainer(train::TrainerOptions().max_epochs(2).batch_size(32).quiet(true));
    trainer.add_logger(std::move(tensorboard));
    trainer.add_callback(cb);
    trainer.add_callback(snapshots);
    trainer.fit(*model, {}, train, val);
  }  // the trainer, its logger and the event file closed

  const auto history = cb->history();
  ASSERT_GE(history.size(), 3u);
  std::vector<tensorboard::Event> logged;
  for (auto& e : tensorboard::EventReader(events_path).read_all())
    if (!e.values.empty() && e.values[0].tag.rfind("confusing_imgs/image/", 0) == 0) logged.push_back(e);
  ASSERT_EQ(logged.size(), history.size());
  // TensorBoard keeps one image per (tag, step): with top_k 2 several figures share a step, so every
  // figure must have a (tag, step) of its own for all of them to be visible.
  std::set<std::pair<std::string, int64_t>> keys;
  for (const auto& e : logged) keys.insert({e.values[0].tag, e.step});
  EXPECT_EQ(keys.size(), logged.size());
  EXPECT_EQ(static_cast<int64_t>(logged.size()), cb->stats().figures_logged);
  const std::vector<int64_t> steps = steps_of(logged);
  EXPECT_LT(std::set<int64_t>(steps.begin(), steps.end()).size(), logged.size())
      << "the run should log several figures at one step, or this test shows nothing";
  auto replay = models::make_model(models::ModelOptions("mlp", {1, 6, 6}, 3).hidden(16));
  for (size_t i = 0; i < history.size(); ++i) {
    const auto& h = history[i];
    SCOPED_TRACE("figure " + std::to_string(i) + " at step " + std::to_string(h.step));
    EXPECT_EQ(logged[i].step, h.step);
    const auto& params = snapshots->at_step.at(h.step);
    {
      torch::NoGradGuard no_grad;
      for (size_t k = 0; k < params.size(); ++k) replay->parameters()[k].copy_(params[k]);
    }
    const auto one = explain::confusion_figure_data(*replay, {}, h.x.unsqueeze(0), at::tensor({h.label}),
                                                    at::tensor({h.class_a}), at::tensor({h.class_b}), 3.0);
    int w1, h1, w2, h2;
    const auto expected = glassbox::testing::decode_png(explain::render_confusion_figure(one[0]), w1, h1);
    const auto actual = glassbox::testing::decode_png(logged[i].values[0].image.encoded, w2, h2);
    ASSERT_EQ(w1, w2);
    ASSERT_EQ(h1, h2);
    size_t same = 0;
    for (size_t k = 0; k < expected.size(); ++k) same += std::abs(int(expected[k]) - int(actual[k])) <= 2;
    EXPECT_GE(double(same) / expected.size(), 0.999);
  }
}

TEST(ProbeCallbacks, AttributionGridsAndMorphGifsWithoutTensorBoard) {
  const std::string dir = glassbox::testing::scratch_dir("cb-probes");
  torch::manual_seed(6);
  const data::Dataset d(at::randint(0, 256, {64, 1, 6, 6}, at::kByte), at::randint(0, 3, {64}, at::kLong), 3);
  at::Tensor x, y;
  callbacks::first_probes(d, 4, x, y);
  auto attribution = std::make_shared<callbacks::AttributionCallback>(callbacks::AttributionCallbackOptions().method("ig"), x, y);
  auto morph = std::make_shared<callbacks::MorphCallback>(callbacks::MorphCallbackOptions().steps(3), x.narrow(0, 0, 2),
                                                          y.narrow(0, 0, 2));
  auto model = models::make_model(models::ModelOptions("cnn", {1, 6, 6}, 3).conv_channels(2).hidden(8));
  train::Trainer trainer(train::TrainerOptions().max_epochs(2).batch_size(16).quiet(true));
  trainer.add_logger(figure_files(dir));
  trainer.add_callback(attribution);
  trainer.add_callback(morph);
  trainer.fit(*model, {}, d, d);
  EXPECT_EQ(attribution->grids_logged(), 3);  // before training and after each epoch
  EXPECT_EQ(morph->animations_logged(), 4);   // 2 probes x 2 epochs
  size_t pngs = 0, gifs = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    pngs += e.path().extension() == ".png";
    gifs += e.path().extension() == ".gif";
  }
  EXPECT_EQ(pngs, 3u);
  EXPECT_EQ(gifs, 4u);
  EXPECT_THROW(callbacks::AttributionCallback(callbacks::AttributionCallbackOptions().method("gradcam2"), x, y),
               glassbox::Error);
}

TEST(FaithfulnessCallback, LogsItsMetricsEveryEpochAsScalarsAndCurves) {
  const std::string dir = glassbox::testing::scratch_dir("cb-faithfulness");
  torch::manual_seed(7);
  const data::Dataset d(at::randint(0, 256, {64, 1, 6, 6}, at::kByte), at::randint(0, 3, {64}, at::kLong), 3);
  at::Tensor x, y;
  callbacks::first_probes(d, 4, x, y);
  auto cb = std::make_shared<callbacks::FaithfulnessCallback>(
      callbacks::FaithfulnessCallbackOptions().method("saliency").metrics({"deletion", "insertion"})
          .evaluate_options(evaluate::EvaluateOptions().pixel_flipping(evaluate::PixelFlippingOptions().steps(6))), x, y);
  auto model = models::make_model(models::ModelOptions("cnn", {1, 6, 6}, 3).conv_channels(2).hidden(8));
  auto tensorboard = std::make_shared<train::TensorBoardLogger>(dir);
  const std::string events_path = tensorboard->path();
  {
    train::Trainer trainer(train::TrainerOptions().max_epochs(2).batch_size(16).quiet(true));
    trainer.add_logger(std::move(tensorboard));
    trainer.add_callback(cb);
    trainer.fit(*model, {}, d, d);
  }
  EXPECT_EQ(cb->evaluations_logged(), 3);  // before training and after each epoch
  std::map<std::string, std::vector<std::pair<int64_t, double>>> scalars;
  size_t curves = 0;
  for (auto& e : tensorboard::EventReader(events_path).read_all())
    for (const auto& v : e.values) {
      if (v.tag.rfind("faithfulness/", 0) != 0) continue;
      if (v.tag == "faithfulness/saliency/curves") ++curves;
      else scalars[v.tag].push_back({e.step, v.scalar});
    }
  EXPECT_EQ(curves, 3u);
  ASSERT_EQ(scalars["faithfulness/saliency/deletion"].size(), 3u);
  ASSERT_EQ(scalars["faithfulness/saliency/insertion"].size(), 3u);
  EXPECT_EQ(scalars["faithfulness/saliency/deletion"].front().first, 0);
  // The last value is the trained model's: deletion's mean area over the probes, recomputed here.
  const at::Tensor a = explain::saliency(*model, x, y);
  const double want = evaluate::deletion(*model, x, y, a, evaluate::PixelFlippingOptions().steps(6)).area.mean().item<double>();
  EXPECT_NEAR(scalars["faithfulness/saliency/deletion"].back().second, want, 1e-5);
  EXPECT_THROW(callbacks::FaithfulnessCallback(callbacks::FaithfulnessCallbackOptions().metrics({"accuracy"}), x, y), glassbox::Error);
  EXPECT_THROW(callbacks::FaithfulnessCallback(callbacks::FaithfulnessCallbackOptions().method("layer_ig"), x, y), glassbox::Error);
}
