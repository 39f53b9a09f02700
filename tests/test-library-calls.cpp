// The library calls a program makes instead of writing the command line's work again: preparing a
// training run, explaining a batch, the launcher's options, the listings, and enum options' names.
// Checked against what can be known without the code: analytic gradients of a linear model, the data
// written here, and each enum's declared order.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/utils.h>

#include <nlohmann/json.hpp>

#include <filesystem>

#include "glassbox/distributed/launch.h"
#include "glassbox/explain/attribution-display.h"
#include "glassbox/explain/confusion.h"
#include "glassbox/explain/explanation.h"
#include "glassbox/explain/gradients.h"
#include "glassbox/explain/layer-listing.h"
#include "glassbox/explain/morph.h"
#include "glassbox/models/architectures.h"
#include "glassbox/tensorboard/log-listing.h"
#include "glassbox/tensorboard/summary-writer.h"
#include "glassbox/train/trainer.h"
#include "glassbox/train/training-run.h"
#include "test-support.h"

using namespace glassbox;
namespace fs = std::filesystem;
using glassbox::testing::parameter_of;

namespace {

template <typename E>
void expect_names_in_enum_order(const std::vector<std::string>& names, const std::function<E(const std::string&)>& parse,
                                const char* param) {
  for (size_t i = 0; i < names.size(); ++i) EXPECT_EQ(parse(names[i]), static_cast<E>(i)) << names[i];
  EXPECT_EQ(parameter_of([&] { parse("no-such-name"); }), param);
}

}  // namespace

TEST(LibraryCalls, EnumNamesAreListedInTheEnumsOrder) {
  // Each list is what the command line offers and binds by position: it must be in declaration order.
  expect_names_in_enum_order<explain::Score>(explain::score_names(), explain::parse_score, "score");
  expect_names_in_enum_order<explain::RankBy>(explain::rank_by_names(), explain::parse_rank_by, "rank_by");
  expect_names_in_enum_order<explain::AttributionSign>(explain::attribution_sign_names(), explain::parse_attribution_sign, "sign");
  expect_names_in_enum_order<explain::MorphNorm>(explain::morph_norm_names(), explain::parse_morph_norm, "norm");
  expect_names_in_enum_order<explain::NoiseTunnelType>(explain::noise_tunnel_type_names(), explain::parse_noise_tunnel_type, "nt_type");
  expect_names_in_enum_order<explain::IntegrationRule>(explain::integration_rule_names(), explain::parse_integration_rule, "method");
  expect_names_in_enum_order<train::OptimizerKind>(train::optimizer_names(), train::parse_optimizer, "optimizer");
  expect_names_in_enum_order<train::DataResidence>(train::data_residence_names(), train::parse_data_residence, "data_residence");
  EXPECT_EQ(explain::score_names(), (std::vector<std::string>{"logit", "log_softmax", "probability"}));
  EXPECT_EQ(explain::parse_integration_rule("gausslegendre"), explain::IntegrationRule::gauss_legendre);  // Captum's name
  EXPECT_STREQ(explain::noise_tunnel_type_name(explain::NoiseTunnelType::vargrad), "vargrad");
  EXPECT_STREQ(train::optimizer_name(train::OptimizerKind::sgd), "sgd");
  EXPECT_STREQ(data::channels_name(data::Channels::rgb), "rgb");
}

TEST(LibraryCalls, TargetsParse) {
  EXPECT_EQ(explain::parse_target("top").kind, explain::Target::Kind::top);
  EXPECT_EQ(explain::parse_target("top2").kind, explain::Target::Kind::top2);
  const explain::Target t = explain::parse_target("7");
  EXPECT_EQ(t.kind, explain::Target::Kind::class_index);
  EXPECT_EQ(t.class_index, 7);
  for (const char* bad : {"", "-1", "+3", "3x", "top3", "100000", "99999999999999999999"})
    EXPECT_EQ(parameter_of([&] { explain::parse_target(bad); }), "target") << bad;
}

TEST(LibraryCalls, ExplainBatchOnALinearModelGivesItsAnalyticAttributions) {
  // logreg: logits = W x + b, so input x gradient for class t is x * W[t] (Captum's InputXGradient),
  // and the top classes are those of W x + b computed here.
  torch::manual_seed(3);
  auto network = models::make_model(models::ModelOptions("logreg", {1, 4, 4}, 5));
  const at::Tensor W = network->parameters()[0].detach().clone(), b = network->parameters()[1].detach().clone();
  const models::Model model(std::move(network), models::InputSpec());
  const at::Tensor x = at::rand({3, 1, 4, 4});
  const at::Tensor logits = at::matmul(x.reshape({3, 16}), W.t()) + b;
  const auto top2 = std::get<1>(at::topk(logits, 2, 1));
  const explain::AttributionMethod& ixg = explain::find_attribution_method("ixg");

  explain::Explanation e = explain::explain_batch(model, x, ixg, explain::ExplainOptions().target(explain::parse_target("top2")));
  EXPECT_TRUE(at::equal(e.ranked, top2));
  EXPECT_TRUE(at::equal(e.targets, top2.select(1, 0)));
  EXPECT_TRUE(at::allclose(e.probabilities, at::softmax(logits.to(at::kDouble), 1), 1e-6, 1e-6));
  for (int64_t i = 0; i < 3; ++i)
    EXPECT_TRUE(at::allclose(e.attributions[i].reshape({16}), x[i].reshape({16}) * W[top2[i][0].item<int64_t>()], 1e-5, 1e-6));
  EXPECT_TRUE(e.layer.empty());

  e = explain::explain_batch(model, x, ixg, explain::ExplainOptions().target(explain::parse_target("4")));
  for (int64_t i = 0; i < 3; ++i) EXPECT_TRUE(at::allclose(e.attributions[i].reshape({16}), x[i].reshape({16}) * W[4], 1e-5, 1e-6));
  // A class the model does not have, and a CAM on a model without a spatial layer, name what was asked.
  EXPECT_EQ(parameter_of([&] { explain::explain_batch(model, x, ixg, explain::ExplainOptions().target(explain::parse_target("5"))); }),
            "target");
  EXPECT_EQ(parameter_of([&] { explain::explain_batch(model, x, explain::find_attribution_method("gradcam"), {}); }), "method");
}

TEST(LibraryCalls, ExplainBatchTakesTheDefaultCamLayerAndSaysSo) {
  torch::manual_seed(0);
  const models::Model model(models::make_model(models::ModelOptions("cnn", {1, 28, 28}, 10).conv_channels(4).hidden(8)),
                            models::InputSpec());
  const at::Tensor x = at::rand({2, 1, 28, 28});
  const explain::Explanation e = explain::explain_batch(model, x, explain::find_attribution_method("gradcam"), {});
  EXPECT_TRUE(e.default_layer);
  EXPECT_FALSE(e.layer.empty());
  EXPECT_EQ(e.attributions.sizes(), (std::vector<int64_t>{2, 1, 28, 28}));
  // The listing marks the same layer, and says the input shape it was built for.
  const auto listing = nlohmann::json::parse(explain::layers_json(model.network()));
  EXPECT_EQ(listing["default_cam_layer"], e.layer);
  EXPECT_EQ(listing["input_shape"], nlohmann::json({1, 28, 28}));
  const models::Model mlp(models::make_model(models::ModelOptions("mlp", {1, 28, 28}, 10).hidden(8)), models::InputSpec());
  EXPECT_TRUE(nlohmann::json::parse(explain::layers_json(mlp.network()))["default_cam_layer"].is_null());
  EXPECT_NE(explain::layers_text(mlp.network()).find("CAM methods cannot run"), std::string::npos);
}

TEST(LibraryCalls, PrepareTrainingRunSplitsTheDataAndNamesItsOptions) {
  const std::string dir = glassbox::testing::scratch_dir("training-run");
  std::vector<uint8_t> labels;
  for (int i = 0; i < 40; ++i) labels.push_back(static_cast<uint8_t>(i % 4));
  glassbox::testing::write_bytes(dir + "/train-images-idx3-ubyte", glassbox::testing::idx_images(40, 6, 6));
  glassbox::testing::write_bytes(dir + "/train-labels-idx1-ubyte", glassbox::testing::idx_labels(labels));
  const train::TrainingRunOptions options = train::TrainingRunOptions().data(dir).train_size(30).architecture("mlp").hidden(8);
  train::TrainingRun run = train::prepare_training_run(options);
  EXPECT_EQ(run.train.size(), 30);
  EXPECT_EQ(run.val.size(), 10);
  EXPECT_EQ(run.model->num_classes(), 4);
  EXPECT_EQ(run.spec.class_names(), (std::vector<std::string>{"0", "1", "2", "3"}));  // no names: the indices
  EXPECT_NE(run.description().find("30 train / 10 val"), std::string::npos) << run.description();
  EXPECT_EQ(parameter_of([&] { train::prepare_training_run(train::TrainingRunOptions(options).train_size(40)); }), "train_size");
  EXPECT_EQ(parameter_of([&] { train::prepare_training_run(train::TrainingRunOptions(options).architecture("resnet")); }),
            "architecture");

  // A checkpoint that has trained as long as asked: nothing left to do, said before the data is read.
  train::Trainer trainer(train::TrainerOptions().max_epochs(1).quiet(true).checkpoint_dir(dir + "/ckpt"));
  const train::FitResult r = trainer.fit(*run.model, run.spec, run.train, run.val);
  EXPECT_EQ(parameter_of([&] { train::prepare_training_run(train::TrainingRunOptions(options).resume(r.last_checkpoint)); }),
            "resume");
  train::TrainingRun resumed = train::prepare_training_run(train::TrainingRunOptions(options).resume(r.last_checkpoint).max_epochs(2));
  EXPECT_GE(resumed.resumed_step, 1);
  const auto summary = nlohmann::json::parse(train::fit_summary_json(r, run, options));
  EXPECT_EQ(summary["val_acc"].get<double>(), r.val_acc);
  EXPECT_EQ(summary["data"], dir);
}

TEST(LibraryCalls, LaunchOptionsAreCheckedAndBecomeWorldOptions) {
  using distributed::LaunchOptions;
  EXPECT_EQ(parameter_of([] { distributed::validate(LaunchOptions().nnodes(2).node_rank(2).master_addr("10.0.0.1")); }), "node_rank");
  EXPECT_EQ(parameter_of([] { distributed::validate(LaunchOptions().nnodes(2)); }), "nnodes");  // no master address
  EXPECT_EQ(parameter_of([] { distributed::validate(LaunchOptions().rendezvous("udp")); }), "rendezvous");
  EXPECT_EQ(parameter_of([] { distributed::validate(LaunchOptions().timeout_seconds(0.5)); }), "timeout_seconds");
  EXPECT_EQ(parameter_of([] { distributed::validate(LaunchOptions().nproc_per_node(0)); }), "nproc_per_node");
  EXPECT_EQ(parameter_of([] { distributed::validate(LaunchOptions().nproc_per_node(4)); }), "(none)");
  const distributed::WorldOptions w =
      distributed::world_options(LaunchOptions().rendezvous("file:/shared/rdv").timeout_seconds(2.5), c10::Device(c10::kCPU));
  EXPECT_EQ(w.rendezvous_file(), "/shared/rdv");
  EXPECT_EQ(w.timeout().count(), 2500);
  EXPECT_EQ(distributed::world_options(LaunchOptions(), c10::Device(c10::kCPU)).rendezvous_file(), "");
  distributed::LaunchEnvironment alone;
  EXPECT_FALSE(distributed::starts_ranks(LaunchOptions(), alone));
  EXPECT_TRUE(distributed::starts_ranks(LaunchOptions().nproc_per_node(2), alone));
  distributed::LaunchEnvironment launched;
  launched.launched = true;
  EXPECT_FALSE(distributed::starts_ranks(LaunchOptions().nproc_per_node(2), launched));
}

TEST(LibraryCalls, LogListingsHoldWhatWasWritten) {
  const std::string dir = glassbox::testing::scratch_dir("log-listing");
  {
    tensorboard::SummaryWriter writer(dir + "/run-a");
    writer.add_scalar("loss", 0.25, 1);
    writer.add_scalar("loss", 0.125, 2);
    writer.add_text("note", "hello", 2);
  }
  tensorboard::ValueListing values;
  const auto runs = tensorboard::read_log_directory(dir, [&](const std::string& run, const tensorboard::Event& e,
                                                             const tensorboard::Value& v) {
    if (v.tag == "loss") values.add(run, e, v);
  });
  const auto listed = nlohmann::json::parse(values.json());
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0]["run"], "run-a");
  EXPECT_EQ(listed[0]["step"], 1);
  EXPECT_EQ(listed[1]["value"].get<double>(), 0.125);  // exactly representable: written and read as float
  EXPECT_NE(values.text().find("run-a step 2: 0.125"), std::string::npos) << values.text();
  const auto summary = nlohmann::json::parse(tensorboard::runs_json(dir, runs));
  ASSERT_EQ(summary["runs"].size(), 1u);
  EXPECT_FALSE(summary.contains("dumped"));
  bool saw_loss = false;
  for (const auto& tag : summary["runs"][0]["tags"])
    if (tag["tag"] == "loss") {
      saw_loss = true;
      EXPECT_EQ(tag["count"], 2);
      EXPECT_EQ(tag["last_step"], 2);
    }
  EXPECT_TRUE(saw_loss);
  EXPECT_NE(tensorboard::runs_text(runs).find("run run-a (1 file)"), std::string::npos) << tensorboard::runs_text(runs);
}
