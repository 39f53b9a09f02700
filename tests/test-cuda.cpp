// Every part of glassbox on a GPU, against the same on the CPU (ctest label cuda). Without a CUDA
// device each test is skipped with a message saying so; with one, the GPU's results must agree with
// the CPU's (float rounding differs between cuDNN and the CPU kernels, so within a tolerance), and
// the data-resident path must make the same batches to the bit.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/cuda.h>

#include <filesystem>
#include <mutex>

#include "glassbox/callbacks/confused-logit.h"
#include "glassbox/distributed/local-launcher.h"
#include "glassbox/distributed/process-group.h"
#include "glassbox/explain/confusion.h"
#include "glassbox/explain/layer-attribution.h"
#include "glassbox/explain/methods.h"
#include "glassbox/explain/morph.h"
#include "glassbox/models/architectures.h"
#include "glassbox/models/checkpoint.h"
#include "glassbox/train/trainer.h"
#include "band-images.h"
#include "test-support.h"

using namespace glassbox;

namespace {

#define REQUIRE_CUDA()                                                                      \
  if (!torch::cuda::is_available())                                                         \
  GTEST_SKIP() << "no CUDA device here (this LibTorch " << (at::hasCUDA() ? "has" : "lacks") \
               << " CUDA): the GPU run checks this"

const c10::Device kGpu(c10::kCUDA, 0);


std::unique_ptr<models::ModuleClassifier> small_cnn(uint64_t seed) {
  torch::manual_seed(seed);
  return models::make_model(models::ModelOptions("cnn", {1, 12, 12}, 3).hidden(32).conv_channels(8));
}

std::vector<at::Tensor> weights(models::ModuleClassifier& model) {
  std::vector<at::Tensor> out;
  for (const auto& p : model.parameters()) out.push_back(p.detach().to(at::kCPU).clone());
  return out;
}

void expect_close(const std::vector<at::Tensor>& a, const std::vector<at::Tensor>& b, double tolerance) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i)
    EXPECT_TRUE(at::allclose(a[i], b[i], tolerance, tolerance)) << "tensor " << i << ": max difference "
                                                                << (a[i] - b[i]).abs().max().item<double>();
}

// Records every image and metric it is given.
struct RecordingLogger : train::Logger {
  std::mutex mutex;
  std::vector<std::string> image_tags;
  void log_metrics(const std::map<std::string, double>&, int64_t) override {}
  void log_image(const std::string& tag, const std::string&, int64_t, const std::string&) override {
    std::lock_guard<std::mutex> lock(mutex);
    image_tags.push_back(tag);
  }
};

}  // namespace

TEST(Cuda, BatchesMadeOnTheDeviceEqualTheHostsToTheBit) {
  REQUIRE_CUDA();
  data::Dataset d = glassbox::testing::band_images(300, 1);
  const data::Dataset view = d.subset(at::arange(10, 250, at::kLong));
  const data::Dataset resident = view.to(kGpu);
  EXPECT_EQ(resident.device(), kGpu);
  const at::Tensor positions = at::randperm(view.size(), at::kLong).narrow(0, 0, 64);
  const data::Batch host = view.batch(positions), device = resident.batch(positions.to(kGpu));
  EXPECT_TRUE(device.x.is_cuda());
  EXPECT_TRUE(at::equal(host.x, device.x.to(at::kCPU)));
  EXPECT_TRUE(at::equal(host.y, device.y.to(at::kCPU)));
  EXPECT_TRUE(at::equal(view.raw(positions), resident.raw(positions)));
}

TEST(Cuda, TrainingMatchesTheCpuWithDataOnTheDeviceOrNot) {
  REQUIRE_CUDA();
  at::globalContext().setDeterministicCuDNN(true);
  const data::Dataset train = glassbox::testing::band_images(512, 1), val = glassbox::testing::band_images(128, 2);
  auto options = [](c10::Device device) {
    return train::TrainerOptions().max_epochs(2).batch_size(32).optimizer(train::OptimizerKind::sgd).learning_rate(0.05)
        .seed(4).threads(1).quiet(true).device(device);
  };
  auto cpu = small_cnn(3);
  const train::FitResult on_cpu = train::Trainer(options(c10::Device(c10::kCPU))).fit(*cpu, {}, train, val);
  for (const train::DataResidence residence : {train::DataResidence::device, train::DataResidence::host}) {
    auto gpu = small_cnn(3);
    const train::FitResult on_gpu = train::Trainer(options(kGpu).data_residence(residence)).fit(*gpu, {}, train, val);
    expect_close(weights(*cpu), weights(*gpu), 1e-4);
    EXPECT_NEAR(on_cpu.val_loss, on_gpu.val_loss, 1e-4);
    EXPECT_EQ(on_gpu.global_step, on_cpu.global_step);
  }
}

TEST(Cuda, ResumeOnTheGpuAndCheckpointsLoadOnTheCpu) {
  REQUIRE_CUDA();
  at::globalContext().setDeterministicCuDNN(true);
  const data::Dataset train = glassbox::testing::band_images(300, 4), val = glassbox::testing::band_images(60, 5);
  const std::string dir = glassbox::testing::scratch_dir("cuda-resume");
  auto options = [&](int64_t epochs, const std::string& ckpt) {
    return train::TrainerOptions().max_epochs(epochs).batch_size(16).seed(11).threads(1).quiet(true).device(kGpu)
        .checkpoint_dir(ckpt);
  };
  auto straight = small_cnn(3);
  train::Trainer(options(2, dir + "/straight")).fit(*straight, {}, train, val);
  auto first = small_cnn(3);
  train::Trainer(options(1, dir + "/first")).fit(*first, {}, train, val);
  auto second = small_cnn(99);
  train::Trainer(options(2, dir + "/second").resume_from(dir + "/first/last.ckpt")).fit(*second, {}, train, val);
  expect_close(weights(*straight), weights(*second), 1e-6);
  // Written from the GPU, read onto the CPU.
  const models::Checkpoint c = models::load_checkpoint(dir + "/straight/last.ckpt");
  for (const auto& p : c.model->parameters()) EXPECT_TRUE(p.device().is_cpu());
  expect_close(weights(*straight), weights(*c.model), 0);
}

TEST(Cuda, EveryAttributionMethodMatchesTheCpu) {
  REQUIRE_CUDA();
  auto cpu = small_cnn(7);
  auto gpu = small_cnn(7);
  gpu->to(kGpu);
  const data::Batch b = glassbox::testing::band_images(4, 3).batch(0, 4);
  const at::Tensor targets = at::tensor(std::vector<int64_t>{0, 1, 2, 1}, at::kLong);
  for (const explain::AttributionMethod* method : explain::attribution_methods()) {
    SCOPED_TRACE(method->name());
    if (method->uses_attention()) continue;  // the cnn has no attention modules
    explain::AttributeOptions options;
    options.integrated_gradients(explain::IntegratedGradientsOptions().n_steps(16));
    if (method->uses_layer()) options.layer(explain::LayerOptions().layer(explain::default_cam_layer(*cpu)));
    // SmoothGrad's noise comes from the default generator of each device: seeded alike, drawn alike
    // only on the same device, so it is compared with no noise.
    options.noise_tunnel(explain::NoiseTunnelOptions().stdevs(0));
    const at::Tensor on_cpu = method->attribute({*cpu, b.x, targets, options});
    const at::Tensor x_gpu = b.x.to(kGpu), t_gpu = targets.to(kGpu);
    const at::Tensor on_gpu = method->attribute({*gpu, x_gpu, t_gpu, options});
    EXPECT_TRUE(on_gpu.is_cuda());
    EXPECT_TRUE(at::allclose(on_cpu, on_gpu.to(at::kCPU), 1e-3, 1e-4))
        << "max difference " << (on_cpu - on_gpu.to(at::kCPU)).abs().max().item<double>();
  }
}

TEST(Cuda, MorphAndMiningMatchTheCpu) {
  REQUIRE_CUDA();
  auto cpu = small_cnn(5);
  auto gpu = small_cnn(5);
  gpu->to(kGpu);
  const data::Dataset d = glassbox::testing::band_images(500, 6);
  const explain::MiningResult a = explain::mine_confusion(*cpu, {}, d, explain::MiningOptions().top(20));
  const explain::MiningResult g = explain::mine_confusion(*gpu, {}, d, explain::MiningOptions().top(20));
  EXPECT_TRUE(at::equal(a.pair_counts, g.pair_counts));
  EXPECT_DOUBLE_EQ(a.accuracy, g.accuracy);
  ASSERT_EQ(a.ranked.size(), g.ranked.size());
  for (size_t i = 0; i < a.ranked.size(); ++i) EXPECT_NEAR(a.ranked[i].gap, g.ranked[i].gap, 1e-4);
  const at::Tensor x = d.batch(0, 1).x;
  const auto mc = explain::morph(*cpu, {}, x, explain::MorphOptions(2).steps(30));
  const auto mg = explain::morph(*gpu, {}, x.to(kGpu), explain::MorphOptions(2).steps(30));
  ASSERT_EQ(mc.frames.size(), mg.frames.size());
  EXPECT_EQ(mc.reached, mg.reached);
  EXPECT_TRUE(at::allclose(mc.frames.back(), mg.frames.back().to(at::kCPU), 1e-3, 1e-3));
}

TEST(Cuda, CallbacksDrawFromGpuBatches) {
  REQUIRE_CUDA();
  const data::Dataset train = glassbox::testing::band_images(256, 8), val = glassbox::testing::band_images(64, 9);
  auto model = small_cnn(1);
  train::Trainer trainer(train::TrainerOptions().max_epochs(1).batch_size(32).threads(1).quiet(true).device(kGpu));
  auto logger = std::make_shared<RecordingLogger>();
  trainer.add_logger(logger);
  auto confused = std::make_shared<callbacks::ConfusedLogitCallback>(
      callbacks::ConfusedLogitOptions(2).logging_batch_interval(1).min_logit_value(-1e9).max_logit_difference(1e9));
  trainer.add_callback(confused);
  trainer.fit(*model, {}, train, val);
  EXPECT_GT(confused->stats().figures_logged, 0);
  EXPECT_EQ(static_cast<int64_t>(logger->image_tags.size()), confused->stats().figures_logged);
}

TEST(Cuda, NcclAllReduceOverTwoGpus) {
  REQUIRE_CUDA();
  if (!distributed::backend_available(distributed::Backend::nccl))
    GTEST_SKIP() << "this glassbox was built without NCCL (GLASSBOX_WITH_NCCL)";
  if (torch::cuda::device_count() < 2) GTEST_SKIP() << "NCCL needs a GPU per rank: 2 GPUs, found " << torch::cuda::device_count();
  // Two ranks of 32 on two GPUs against one CPU process of 64 (test-distributed's worker and truth).
  const std::string dir = glassbox::testing::scratch_dir("cuda-nccl");
  const std::string worker = DISTRIBUTED_WORKER;
  std::filesystem::create_directories(dir + "/one");
  std::filesystem::create_directories(dir + "/two");
  ASSERT_EQ(glassbox::testing::run_command(worker + " " + dir + "/one sgd 64").exit_code, 0);
  const std::string env = "WORLD_SIZE=2 LOCAL_WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=" +
                          std::to_string(distributed::free_local_port()) + " ";
  const std::string command = worker + " " + dir + "/two sgd 32 25 overlap cuda";
  const auto r = glassbox::testing::run_command("sh -c '" + env + "RANK=1 LOCAL_RANK=1 " + command + " & other=$!; " + env +
                                                "RANK=0 LOCAL_RANK=0 " + command +
                                                "; mine=$?; wait $other; theirs=$?; exit $((mine | theirs))'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string one = glassbox::testing::read_all(dir + "/one/rank-0.bin");
  const std::string two = glassbox::testing::read_all(dir + "/two/rank-0.bin");
  EXPECT_EQ(two, glassbox::testing::read_all(dir + "/two/rank-1.bin"));
  ASSERT_EQ(one.size(), two.size());
  const at::Tensor a = at::from_blob(const_cast<char*>(one.data()), {int64_t(one.size() / 4)}, at::kFloat);
  const at::Tensor b = at::from_blob(const_cast<char*>(two.data()), {int64_t(two.size() / 4)}, at::kFloat);
  EXPECT_TRUE(at::allclose(a, b, 1e-4, 1e-4)) << "max difference " << (a - b).abs().max().item<double>();
}
