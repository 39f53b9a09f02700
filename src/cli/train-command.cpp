// glassbox train: fit a built-in model on an IDX dataset, with metrics, checkpoints and a summary.
#include <CLI/CLI.hpp>
#include <torch/utils.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "commands.h"
#include "glassbox/callbacks/confused-logit.h"
#include "glassbox/callbacks/probe-callbacks.h"
#include "glassbox/data/named.h"
#include "glassbox/explain/attribution.h"
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
  bool no_tensorboard = false;
  std::vector<std::string> callbacks;
  int64_t confused_top_k = 1;
  int64_t confused_interval = 20;
  double confused_min_logit = 5.0;
  double confused_max_diff = 0.1;
  double projection_factor = 3;
  std::string attribution_method = "ig";
  int64_t probes = 8;
  int64_t morph_probes = 4;
  int64_t morph_steps = 40;
  int64_t conv_channels = 32;
  bool normalize = false;
  bool quiet = false;
};

// The callbacks named by --callbacks, their figures to TensorBoard (or PNG files under the logdir).
void add_callbacks(const TrainArgs& a, train::Trainer& trainer, std::shared_ptr<tensorboard::SummaryWriter> writer,
                   const data::Dataset& val, const data::Normalization& normalization) {
  if (a.callbacks.empty()) return;  // names and --logdir were checked by run_train before any work
  auto sink = std::make_shared<callbacks::FigureSink>(writer, (std::filesystem::path(a.logdir) / "figures").string());
  const std::vector<std::string>& names = val.class_names();  // explain::class_name covers missing ones
  for (const std::string& name : a.callbacks) {
    if (name == "confused") {
      trainer.add_callback(std::make_shared<callbacks::ConfusedLogitCallback>(
          callbacks::ConfusedLogitOptions(a.confused_top_k)
              .projection_factor(a.projection_factor)
              .min_logit_value(a.confused_min_logit)
              .logging_batch_interval(a.confused_interval)
              .max_logit_difference(a.confused_max_diff)
              .normalization(normalization)
              .class_names(names),
          sink));
    } else if (name == "attribution") {
      at::Tensor x, y;
      callbacks::first_probes(val, std::min(a.probes, val.size()), x, y);
      trainer.add_callback(std::make_shared<callbacks::AttributionCallback>(
          callbacks::AttributionCallbackOptions().method(a.attribution_method).normalization(normalization).class_names(names),
          x, y, sink));
    } else if (name == "morph") {
      at::Tensor x, y;
      callbacks::first_probes(val, std::min(a.morph_probes, val.size()), x, y);
      trainer.add_callback(std::make_shared<callbacks::MorphCallback>(
          callbacks::MorphCallbackOptions().steps(a.morph_steps).normalization(normalization).class_names(names), x, y,
          sink));
    }
  }
}

void run_train(const TrainArgs& a) {
  // Check the flags and the output locations before any work or any file: nothing is trained only to
  // fail on writing, and a bad flag leaves nothing behind.
  for (const std::string& name : a.callbacks)
    GLASSBOX_CHECK(name == "confused" || name == "attribution" || name == "morph", "--callbacks ", name,
                   ": unknown callback, expected confused, attribution or morph");
  GLASSBOX_CHECK(a.callbacks.empty() || !a.logdir.empty(), "--callbacks ", a.callbacks.empty() ? "" : a.callbacks.front(),
                 ": needs --logdir, where the figures go");
  if (std::find(a.callbacks.begin(), a.callbacks.end(), "attribution") != a.callbacks.end())
    explain::parse_method(a.attribution_method);
  const train::TrainerOptions options = train::TrainerOptions()
                                            .max_epochs(a.epochs)
                                            .batch_size(a.batch_size)
                                            .learning_rate(a.lr)
                                            .optimizer(a.optimizer)
                                            .momentum(a.momentum)
                                            .seed(a.seed)
                                            .threads(a.threads)
                                            .device(a.device)
                                            .resume_from(a.resume)
                                            .log_every_n_steps(a.log_every_n_steps)
                                            .quiet(a.quiet);
  train::validate_options(options);
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

  train::Trainer trainer(train::TrainerOptions(options).checkpoint_dir(checkpoint_dir));
  std::shared_ptr<tensorboard::SummaryWriter> writer;
  if (!a.logdir.empty()) {
    trainer.add_logger(std::make_shared<train::CsvLogger>((std::filesystem::path(a.logdir) / "metrics.csv").string()));
    if (!a.no_tensorboard) {
      auto tb = std::make_shared<train::TensorBoardLogger>(a.logdir);
      writer = tb->shared_writer();
      trainer.add_logger(tb);
    }
  }
  add_callbacks(a, trainer, writer, parts[1], normalization);
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
  cmd->add_flag("--no-tensorboard", args->no_tensorboard,
                "no event files: metrics to metrics.csv only, callback figures as PNG/GIF files under LOGDIR/figures");
  cmd->add_option("--callbacks", args->callbacks, "confused, attribution, morph (comma-separated)")->delimiter(',');
  cmd->add_option("--confused-top-k", args->confused_top_k, "confused: figures per logging batch")->capture_default_str();
  cmd->add_option("--confused-interval", args->confused_interval, "confused: look at every n-th batch")
      ->capture_default_str();
  cmd->add_option("--confused-min-logit", args->confused_min_logit, "confused: a sample's top logit must reach this")
      ->capture_default_str();
  cmd->add_option("--confused-max-diff", args->confused_max_diff, "confused: top-2 logit gap below this")
      ->capture_default_str();
  cmd->add_option("--projection-factor", args->projection_factor, "confused: k in x + k * gradient")
      ->capture_default_str();
  cmd->add_option("--attribution-method", args->attribution_method, "attribution: saliency, ixg, ig, smoothgrad, occlusion")
      ->capture_default_str();
  cmd->add_option("--probes", args->probes, "attribution: the first N validation samples")->capture_default_str();
  cmd->add_option("--morph-probes", args->morph_probes, "morph: the first N validation samples")->capture_default_str();
  cmd->add_option("--morph-steps", args->morph_steps, "morph: at most this many steps")->capture_default_str();
  cmd->add_option("--hidden", args->hidden, "mlp hidden width and cnn head width")->capture_default_str();
  cmd->add_option("--conv-channels", args->conv_channels, "cnn: channels of the first conv block (x2 in the second)")
      ->capture_default_str();
  cmd->add_flag("--normalize", args->normalize, "normalise inputs with the training split's mean and std");
  cmd->add_flag("-q,--quiet", args->quiet, "print only the final summary line");
  return [args] { run_train(*args); };
}

}  // namespace glassbox::cli
