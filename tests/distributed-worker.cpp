// One rank of a data-parallel training run, for test-distributed: joins the world that torchrun's
// environment describes (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT; none of them: one process), trains
// the cnn on a generated problem with the library's Trainer, and writes the rank's final parameters, raw
// float bytes in parameter order, to OUT/rank-R.bin: the test compares every rank's weights with the
// others' and with one process's.
//
// usage: distributed-worker OUT adam|sgd BATCH_SIZE [BUCKET_CAP_MB [overlap|no-overlap [cpu|cuda]]]
// (cuda: each rank on GPU LOCAL_RANK over NCCL)
#include <ATen/ATen.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "glassbox/distributed/launch-environment.h"
#include "glassbox/distributed/process-group.h"
#include "glassbox/models/architectures.h"
#include "glassbox/train/trainer.h"
#include "band-images.h"
#include "glassbox/util/error.h"

using namespace glassbox;

namespace {


}  // namespace

int main(int argc, char** argv) try {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s OUT adam|sgd BATCH_SIZE [BUCKET_CAP_MB [overlap|no-overlap [cpu|cuda]]]\n", argv[0]);
    return 2;
  }
  const std::string out = argv[1];
  const distributed::LaunchEnvironment env = distributed::read_launch_environment();
  const bool cuda = argc > 6 && std::string(argv[6]) == "cuda";
  const c10::Device device = cuda ? c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(env.local_rank)) : c10::Device(c10::kCPU);
  std::shared_ptr<distributed::Communicator> world = distributed::single_process();
  if (env.launched && env.world_size > 1)
    world = distributed::connect(distributed::ProcessGroupOptions()
                                     .rank(env.rank)
                                     .world_size(env.world_size)
                                     .backend(cuda ? distributed::Backend::nccl : distributed::Backend::gloo)
                                     .device_index(env.local_rank)
                                     .rendezvous(distributed::RendezvousOptions()
                                                     .master_addr(env.master_addr)
                                                     .master_port(env.master_port))
                                     .timeout(std::chrono::seconds(60)));
  const data::Dataset train = glassbox::testing::band_images(1024, 1), val = glassbox::testing::band_images(200, 2);
  // Rank 0's initial weights reach the others by broadcast: give the others different ones, so that a
  // missing broadcast shows.
  torch::manual_seed(3 + static_cast<uint64_t>(world->rank()));
  auto model = models::make_model(models::ModelOptions("cnn", {1, 12, 12}, 3).hidden(32).conv_channels(8));
  const bool sgd = std::string(argv[2]) == "sgd";
  train::Trainer trainer(train::TrainerOptions()
                             .max_epochs(1)
                             .batch_size(std::stoll(argv[3]))
                             .optimizer(sgd ? train::OptimizerKind::sgd : train::OptimizerKind::adam)
                             .learning_rate(sgd ? 0.05 : 0.003)
                             .seed(11)
                             .threads(1)
                             .device(device)
                             .quiet(true));
  train::DataParallelOptions parallel;
  if (argc > 4) parallel.bucket_cap_mb(std::stod(argv[4]));
  if (argc > 5) parallel.overlap_backward(std::string(argv[5]) == "overlap");
  trainer.distribute(world, parallel);
  trainer.fit(*model, {}, train, val);
  std::ofstream file(out + "/rank-" + std::to_string(world->rank()) + ".bin", std::ios::binary);
  for (const at::Tensor& p : model->parameters()) {
    const at::Tensor c = p.detach().to(at::kCPU).contiguous();
    file.write(static_cast<const char*>(c.data_ptr()), static_cast<std::streamsize>(c.nbytes()));
  }
  return file.good() ? 0 : 1;
} catch (const std::exception& e) {
  std::fprintf(stderr, "distributed-worker: %s\n", e.what());
  return 1;
}
