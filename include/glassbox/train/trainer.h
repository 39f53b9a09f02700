// The training loop: epochs of shuffled batches, an optimizer step per batch, validation per epoch,
// metrics to loggers, checkpoints on val_loss (best and last), resume, and callbacks at every hook;
// on one process, or spread over ranks (distribute(): data parallel, as PyTorch's DDP).
#pragma once

#include <c10/core/Device.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "glassbox/data/dataset.h"
#include "glassbox/models/architectures.h"
#include "glassbox/models/checkpoint.h"
#include "glassbox/models/input-spec.h"
#include "glassbox/distributed/communicator.h"
#include "glassbox/train/callback.h"
#include "glassbox/train/data-parallel.h"
#include "glassbox/train/logger-list.h"
#include "glassbox/util/arg.h"

namespace glassbox::train {

// The optimizer the Trainer steps with.
enum class OptimizerKind { adam, sgd };
OptimizerKind parse_optimizer(const std::string& name);  // "adam" | "sgd"
std::vector<std::string> optimizer_names();  // every name the parser takes, in order
const char* optimizer_name(OptimizerKind kind);

// Where in-memory training and validation data live when the model trains on a GPU.
enum class DataResidence {
  automatic,  // on the device when they take at most device_data_max_bytes
  device,     // on the device (an error for images decoded per batch)
  host,       // on the host: each batch is gathered there and copied over
};
DataResidence parse_data_residence(const std::string& name);  // "auto" | "on" | "off"
std::vector<std::string> data_residence_names();  // every name the parser takes, in order

struct TrainerOptions {
  GLASSBOX_ARG(int64_t, max_epochs) = 1;
  GLASSBOX_ARG(int64_t, batch_size) = 64;
  GLASSBOX_ARG(int64_t, eval_batch_size) = 1000;
  GLASSBOX_ARG(OptimizerKind, optimizer) = OptimizerKind::adam;  // sgd with momentum
  // 0: the architecture's default (models::default_learning_rate: the seed's 0.005 for linear and
  // logreg, 0.001 for mlp and cnn).
  GLASSBOX_ARG(double, learning_rate) = 0;
  GLASSBOX_ARG(double, momentum) = 0.9;           // sgd only
  GLASSBOX_ARG(uint64_t, seed) = 0;
  GLASSBOX_ARG(int, threads) = 0;                 // 0 = one per core
  GLASSBOX_ARG(c10::Device, device) = c10::Device(c10::kCPU);  // util/device.h parses names
  // On a GPU: batches gathered and converted there from data held there, so the GPU never waits for the
  // host (fashion-mnist's uint8 images are 47 MB).
  GLASSBOX_ARG(DataResidence, data_residence) = DataResidence::automatic;
  GLASSBOX_ARG(int64_t, device_data_max_bytes) = int64_t(1) << 30;  // automatic's bound: 1 GiB
  // Where best.ckpt and last.ckpt go; empty = no checkpoints.
  GLASSBOX_ARG(std::string, checkpoint_dir);
  // A checkpoint to continue from: its weights, optimizer state, epoch and step.
  GLASSBOX_ARG(std::string, resume_from);
  // train_loss_step goes to the loggers every n steps and at each epoch's last step (as Lightning's
  // log_every_n_steps, default 50); 1 logs every step. Measured: logging every step of the seed's
  // model cost 6-7 % of an epoch, every 50 steps about 1 %.
  GLASSBOX_ARG(int64_t, log_every_n_steps) = 50;
  GLASSBOX_ARG(bool, progress) = true;            // progress bar (terminal) or plain lines
  GLASSBOX_ARG(bool, quiet) = false;              // nothing on the console
};

// Throws glassbox::Error naming the option and value when the options cannot work (max_epochs,
// batch_size, learning_rate, momentum, threads, device). fit() checks them too; callers check first
// to fail before writing anything.
void validate_options(const TrainerOptions& options);

struct FitResult {
  double val_loss = 0;
  double val_acc = 0;
  int64_t epochs = 0;             // epochs completed in total (resumed ones included)
  int64_t global_step = 0;
  double seconds = 0;             // training time of this fit (validation included)
  double samples_per_second = 0;  // training samples per second of training-batch time (all ranks')
  double all_reduce_seconds = 0;  // of the training-batch time, spent waiting for gradient all-reduce
  int world_size = 1;
  std::string best_checkpoint;
  std::string last_checkpoint;
};

class Trainer {
 public:
  explicit Trainer(TrainerOptions options = {});
  ~Trainer();

  void add_callback(std::shared_ptr<Callback> callback);
  // Loggers record on rank 0 only; other ranks' callbacks see a logger whose records() is false.
  void add_logger(std::shared_ptr<Logger> logger);

  // Spreads fit() and evaluate() over the ranks of `communicator`: every rank calls them with the same
  // options, architecture and data; each trains on its shard and they take the same steps. Only rank 0
  // writes checkpoints and logs. Without it (or with a world of 1), one process does everything.
  void distribute(std::shared_ptr<distributed::Communicator> communicator, DataParallelOptions options = {});

  // Trains `model` on `train`, validating on `val` after each epoch. Batches become inputs by `spec`
  // (its normalisation), which callbacks are handed and checkpoints record with the class names (the
  // classes' indices when it has none). `resume`, when given, is used instead of opening
  // options().resume_from() (so that a caller who read the checkpoint reads it only once).
  FitResult fit(models::ModuleClassifier& model, const models::InputSpec& spec, const data::Dataset& train,
                const data::Dataset& val, const models::CheckpointFile* resume = nullptr);

  // Mean cross-entropy and accuracy of `model` on `data` made inputs by `spec`, in eval mode without
  // gradients (distributed: each rank evaluates its share and every rank gets the totals).
  std::map<std::string, double> evaluate(models::Classifier& model, const models::InputSpec& spec,
                                         const data::Dataset& data);

  const TrainerOptions& options() const { return options_; }

 private:
  TrainerOptions options_;
  std::vector<std::shared_ptr<Callback>> callbacks_;
  std::shared_ptr<LoggerList> loggers_;
  std::shared_ptr<distributed::Communicator> communicator_;
  DataParallelOptions data_parallel_;
};

}  // namespace glassbox::train
