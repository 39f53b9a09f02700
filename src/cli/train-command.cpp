// glassbox train: fit a built-in model on an IDX dataset, with metrics, checkpoints and a summary.
#include <CLI/CLI.hpp>
#include <torch/utils.h>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <memory>

#include "commands.h"
#include "glassbox/data/named.h"
#include "glassbox/models/architectures.h"
#include "glassbox/models/checkpoint.h"
#include "glassbox/train/console-logger.h"
#include "glassbox/train/csv-logger.h"
#include "glassbox/train/tensorboard-logger.h"
#include "glassbox/train/trainer.h"
#include "glassbox/util/atomic-file.h"
#include "glassbox/util/error.h"

namespace glassbox::cli {
namespace {

struct TrainArgs {
  std::string data = "mnist";
  std::string model = "linear";
  int64_t epochs = 1;
  int64_t batch_size = 64;
  double lr = 0.005;
  std::string optimizer = "adam";
  double momentum = 0.9;
  uint64_t seed = 0;
  int threads = 0;
  std::string device = "cpu";
  std::string logdir;
  std::string summary_json;
  std::string resume;
  int64_t train_size = 0;
  int64_t hidden = 256;
  int64_t log_every_n_steps = 50;
  int64_t conv_channels = 32;
  bool normalize = false;
  bool quiet = false;
};

void run_train(const TrainArgs& a) {
  // Check the output locations before any work: nothing is trained only to fail on writing.
  std::string checkpoint_dir;
  if (!a.logdir.empty()) {
    ensure_writable_directory(a.logdir);
    checkpoint_dir = (std::filesystem::path(a.logdir) / "checkpoints").string();
    ensure_writable_directory(checkpoint_dir);
  }
  if (!a.summary_json.empty()) {
    const std::string parent = std::filesystem::path(a.summary_json).parent_path().string();
    ensure_writable_directory(parent.empty() ? "." : parent);
  }

  const data::Dataset all = data::load_idx_dataset(a.data, data::Split::train);
  std::vector<int64_t> sizes = data::default_train_val_sizes(all.size());
  if (a.train_size > 0) {
    GLASSBOX_CHECK(a.train_size < all.size(), "--train-size ", a.train_size, ": the training file has ", all.size(),
                   " images, expected fewer so that some remain for validation");
    sizes = {a.train_size, all.size() - a.train_size};
  }
  GLASSBOX_CHECK(sizes[0] > 0 && sizes[1] > 0, a.data, ": ", all.size(), " images are too few to split into ",
                 "training and validation");
  std::vector<data::Dataset> parts = data::random_split(all, sizes, a.seed);

  torch::manual_seed(a.seed);
  std::unique_ptr<models::ModuleClassifier> model;
  data::Normalization normalization;
  if (!a.resume.empty()) {
    // A resumed run sees its inputs exactly as before: the normalisation comes from the checkpoint.
    models::Checkpoint ckpt = models::load_checkpoint(a.resume);
    model = std::move(ckpt.model);
    normalization = ckpt.meta.normalization;
  } else {
    if (a.normalize) normalization = parts[0].compute_normalization();
    model = models::make_model(
        models::ModelOptions(a.model, {all.channels(), all.height(), all.width()}, all.num_classes())
            .hidden(a.hidden)
            .conv_channels(a.conv_channels));
  }
  parts[0].set_normalization(normalization);
  parts[1].set_normalization(normalization);

  train::Trainer trainer(train::TrainerOptions()
                             .max_epochs(a.epochs)
                             .batch_size(a.batch_size)
                             .learning_rate(a.lr)
                             .optimizer(a.optimizer)
                             .momentum(a.momentum)
                             .seed(a.seed)
                             .threads(a.threads)
                             .device(a.device)
                             .checkpoint_dir(checkpoint_dir)
                             .resume_from(a.resume)
                             .log_every_n_steps(a.log_every_n_steps)
                             .quiet(a.quiet));
  if (!a.logdir.empty()) {
    trainer.add_logger(std::make_shared<train::CsvLogger>((std::filesystem::path(a.logdir) / "metrics.csv").string()));
    trainer.add_logger(std::make_shared<train::TensorBoardLogger>(a.logdir));
  }
  if (!a.quiet) std::printf("training %s on %s: %lld train / %lld val samples, %lld epochs\n", model->name().c_str(),
                            a.data.c_str(), static_cast<long long>(parts[0].size()),
                            static_cast<long long>(parts[1].size()), static_cast<long long>(a.epochs));
  std::fflush(stdout);
  const train::FitResult r = trainer.fit(*model, parts[0], parts[1]);

  std::printf("val_loss %.4f  val_acc %.4f  seconds %.2f  samples/s %.0f  checkpoint %s\n", r.val_loss, r.val_acc,
              r.seconds, r.samples_per_second,
              r.best_checkpoint.empty() ? "(none: no --logdir)" : r.best_checkpoint.c_str());
  if (!a.summary_json.empty()) {
    nlohmann::json j = {{"val_loss", r.val_loss},     {"val_acc", r.val_acc},
                        {"epochs", r.epochs},         {"seconds", r.seconds},
                        {"samples_per_s", r.samples_per_second}, {"checkpoint", r.best_checkpoint},
                        {"last_checkpoint", r.last_checkpoint},  {"model", model->name()},
                        {"data", a.data}};
    write_file_atomically(a.summary_json, j.dump(2) + "\n");
  }
}

}  // namespace

Run add_train_command(CLI::App& app) {
  auto args = std::make_shared<TrainArgs>();
  CLI::App* cmd = app.add_subcommand("train", "Train a model on an IDX dataset, with checkpoints and metrics");
  cmd->add_option("--data", args->data, "mnist, fashion-mnist, or an IDX directory")->capture_default_str();
  cmd->add_option("--model", args->model, "linear (the seed's), logreg, mlp or cnn")
      ->check(CLI::IsMember({"linear", "logreg", "mlp", "cnn"}))
      ->capture_default_str();
  cmd->add_option("--epochs", args->epochs, "epochs to train (in total, when resuming)")->capture_default_str();
  cmd->add_option("--batch-size", args->batch_size, "training batch size")->capture_default_str();
  cmd->add_option("--lr", args->lr, "learning rate")->capture_default_str();
  cmd->add_option("--optimizer", args->optimizer, "adam or sgd (with --momentum)")
      ->check(CLI::IsMember({"adam", "sgd"}))
      ->capture_default_str();
  cmd->add_option("--momentum", args->momentum, "sgd momentum")->capture_default_str();
  cmd->add_option("--seed", args->seed, "seed for initialisation, the split and shuffling")->capture_default_str();
  cmd->add_option("--threads", args->threads, "compute threads (0 = one per core)")->capture_default_str();
  cmd->add_option("--device", args->device, "cpu or cuda[:N]")->capture_default_str();
  cmd->add_option("--logdir", args->logdir, "run directory: TensorBoard events, metrics.csv and checkpoints/ "
                                                  "(none written without it)");
  cmd->add_option("--summary-json", args->summary_json, "write val_loss, val_acc, epochs, seconds, samples_per_s "
                                                        "and checkpoint as JSON to this file");
  cmd->add_option("--resume", args->resume, "continue from this checkpoint (weights, optimizer, epoch)");
  cmd->add_option("--train-size", args->train_size,
                  "training samples (the rest validate); default 55,000 of 60,000, else 11/12");
  cmd->add_option("--log-every-n-steps", args->log_every_n_steps,
                  "log train_loss_step every n steps (and at each epoch's end)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--hidden", args->hidden, "mlp hidden width and cnn head width")->capture_default_str();
  cmd->add_option("--conv-channels", args->conv_channels, "cnn: channels of the first conv block (x2 in the second)")
      ->capture_default_str();
  cmd->add_flag("--normalize", args->normalize, "normalise inputs with the training split's mean and std");
  cmd->add_flag("-q,--quiet", args->quiet, "print only the final summary line");
  return [args] { run_train(*args); };
}

}  // namespace glassbox::cli
