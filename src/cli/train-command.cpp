// glassbox train: fit a built-in model on a dataset, with metrics, checkpoints and a summary.
// Every flag, the data and the model are checked before the run directory is created or claimed.
#include <CLI/CLI.hpp>
#include <torch/utils.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>

#include "commands.h"
#include "distributed-flags.h"
#include "glassbox/distributed/world.h"
#include "flags.h"
#include "glassbox/callbacks/confused-logit.h"
#include "glassbox/callbacks/probe-callbacks.h"
#include "glassbox/data/load.h"
#include "glassbox/explain/layer-attribution.h"
#include "glassbox/explain/methods.h"
#include "glassbox/models/architectures.h"
#include "glassbox/models/checkpoint.h"
#include "glassbox/train/console-logger.h"
#include "glassbox/train/csv-logger.h"
#include "glassbox/train/image-file-logger.h"
#include "glassbox/train/run-directory.h"
#include "glassbox/train/tensorboard-logger.h"
#include "glassbox/train/trainer.h"
#include "glassbox/util/bounded-json.h"
#include "glassbox/util/error.h"
#include "glassbox/util/threads.h"
#include "glassbox/util/terminal-text.h"
#include "model-source.h"
#include "outputs.h"

namespace glassbox::cli {
namespace {

struct TrainArgs {
  DataArgs data;
  // The library's defaults (trainer.h, model-options.h, the callbacks' options).
  std::string model = models::architecture_names().front();  // the seed's
  int64_t epochs = train::TrainerOptions().max_epochs();
  int64_t batch_size = train::TrainerOptions().batch_size();
  double lr = train::TrainerOptions().learning_rate();  // 0: the architecture's default
  std::string optimizer = train::optimizer_name(train::TrainerOptions().optimizer());
  double momentum = train::TrainerOptions().momentum();
  uint64_t seed = train::TrainerOptions().seed();
  int threads = train::TrainerOptions().threads();
  c10::Device device = train::TrainerOptions().device();
  std::string data_on_device = train::data_residence_names()[size_t(train::TrainerOptions().data_residence())];
  std::string logdir;
  std::string summary_json;
  std::string resume;
  int64_t train_size = 0;
  int64_t hidden = models::ModelOptions("", {}, 2).hidden();
  int64_t log_every_n_steps = train::TrainerOptions().log_every_n_steps();
  bool no_tensorboard = false;
  std::vector<std::string> callbacks;
  int64_t confused_top_k = 1;
  int64_t confused_interval = callbacks::ConfusedLogitOptions(1).logging_batch_interval();
  double confused_min_logit = callbacks::ConfusedLogitOptions(1).min_logit_value();
  double confused_max_diff = callbacks::ConfusedLogitOptions(1).max_logit_difference();
  double projection_factor = callbacks::ConfusedLogitOptions(1).projection_factor();
  std::string attribution_method = callbacks::AttributionCallbackOptions().method();
  int64_t probes = 8;
  int64_t morph_probes = 4;
  int64_t morph_steps = callbacks::MorphCallbackOptions().steps();
  int64_t conv_channels = models::ModelOptions("", {}, 2).conv_channels();
  bool normalize = false;
  bool quiet = false;
  DistributedArgs distributed;
};

bool wants(const TrainArgs& a, const char* callback) {
  return std::find(a.callbacks.begin(), a.callbacks.end(), callback) != a.callbacks.end();
}

// The callbacks named by --callbacks; their figures go to the trainer's loggers.
void add_callbacks(const TrainArgs& a, train::Trainer& trainer, const data::Dataset& val) {
  if (a.callbacks.empty()) return;  // names and --logdir were checked before any work
  if (wants(a, "confused"))
    trainer.add_callback(std::make_shared<callbacks::ConfusedLogitCallback>(
        callbacks::ConfusedLogitOptions(a.confused_top_k)
            .projection_factor(a.projection_factor)
            .min_logit_value(a.confused_min_logit)
            .logging_batch_interval(a.confused_interval)
            .max_logit_difference(a.confused_max_diff)));
  if (wants(a, "attribution")) {
    at::Tensor x, y;
    callbacks::first_probes(val, std::min(a.probes, val.size()), x, y);
    trainer.add_callback(std::make_shared<callbacks::AttributionCallback>(
        callbacks::AttributionCallbackOptions().method(a.attribution_method), x, y));
  }
  if (wants(a, "morph")) {
    at::Tensor x, y;
    callbacks::first_probes(val, std::min(a.morph_probes, val.size()), x, y);
    trainer.add_callback(std::make_shared<callbacks::MorphCallback>(
        callbacks::MorphCallbackOptions().steps(a.morph_steps), x, y));
  }
}

void run_train(const TrainArgs& a) {
  // 1. Flags (their ranges were checked as they were read).
  for (const std::string& name : a.callbacks)
    GLASSBOX_CHECK(name == "confused" || name == "attribution" || name == "morph", "--callbacks ",
                   printable_excerpt(name), ": unknown callback, expected confused, attribution or morph");
  GLASSBOX_CHECK(a.callbacks.empty() || !a.logdir.empty(), "--callbacks ", a.callbacks.empty() ? "" : a.callbacks.front(),
                 ": needs --logdir, where the figures go");
  if (wants(a, "attribution"))
    for_flag("--attribution-method", a.attribution_method,
             [&]() -> const explain::AttributionMethod& { return explain::find_attribution_method(a.attribution_method); });
  const train::TrainerOptions options = train::TrainerOptions()
                                            .max_epochs(a.epochs)
                                            .batch_size(a.batch_size)
                                            .learning_rate(a.lr)
                                            .optimizer(train::parse_optimizer(a.optimizer))
                                            .momentum(a.momentum)
                                            .seed(a.seed)
                                            .threads(a.threads)
                                            .device(a.device)
                                            .data_residence(train::parse_data_residence(a.data_on_device))
                                            .log_every_n_steps(a.log_every_n_steps)
                                            .quiet(a.quiet);
  for_flag("--threads", std::to_string(a.threads), [&] { train::validate_options(options); });
  // 2. Output locations, without creating anything.
  if (!a.logdir.empty()) check_output_directory("--logdir", a.logdir);
  // A summary inside the logdir is created with it; anywhere else its directory must exist.
  if (!a.summary_json.empty())
    check_output_file("--summary-json", a.summary_json, {".json"}, !a.logdir.empty() && is_inside(a.summary_json, a.logdir));
  // 2b. Ranks: this process starts them (and is done), or is one of them, or runs alone.
  const distributed::LaunchEnvironment env = start_ranks_or_continue(a.distributed);

  // 3. The data and the model. A resumed run sees its inputs exactly as before: preprocessing and
  // normalisation come from the checkpoint.
  GLASSBOX_CHECK(a.resume.empty() || preprocess_flag_given(a.data).empty(), preprocess_flag_given(a.data),
                 " with --resume: the checkpoint records how its images were prepared");
  std::optional<models::CheckpointFile> resumed;
  if (!a.resume.empty()) {
    resumed.emplace(a.resume);
    GLASSBOX_CHECK(resumed->meta().epoch < a.epochs, "--resume ", a.resume, ": already trained ", resumed->meta().epoch,
                   " epochs, nothing left for --epochs ", a.epochs);
  }
  const data::Preprocess preprocess = resumed ? resumed->meta().preprocess : preprocess_of(a.data);
  // Errors name the file at fault (or the dataset name that was not found).
  const data::LoadedDataset loaded = data::load_dataset(
      a.data.data, data::Split::train, dataset_options(a.data, data::Preprocess(preprocess).normalize({}), a.threads));
  const data::Dataset& all = loaded.dataset;
  std::vector<int64_t> sizes = data::default_train_val_sizes(all.size());
  if (a.train_size > 0) {
    GLASSBOX_CHECK(a.train_size < all.size(), "--train-size ", a.train_size, ": the training file has ", all.size(),
                   " images, expected fewer so that some remain for validation");
    sizes = {a.train_size, all.size() - a.train_size};
  }
  GLASSBOX_CHECK(sizes[0] > 0 && sizes[1] > 0, "--data ", a.data.data, ": ", all.size(), " images are too few to split into ",
                 "training and validation");
  std::vector<data::Dataset> parts = data::random_split(all, sizes, a.seed);

  torch::manual_seed(a.seed);
  std::unique_ptr<models::ModuleClassifier> model;
  data::Normalization normalization;
  int64_t resumed_step = -1;
  if (resumed) {
    model = resumed->make_model();
    normalization = resumed->meta().normalization;
    resumed_step = resumed->meta().global_step;
    GLASSBOX_CHECK(all.channels() == model->input_shape().channels && all.height() == model->input_shape().height &&
                       all.width() == model->input_shape().width,
                   "--data ", a.data.data, ": images are ", all.channels(), "x", all.height(), "x", all.width(),
                   ", but the checkpoint's model takes ", model->input_shape().channels, "x", model->input_shape().height,
                   "x", model->input_shape().width);
  } else {
    // --normalize: the training split's own statistics; otherwise the preset's (imagenet), if any.
    normalization = a.normalize ? parts[0].compute_normalization() : preprocess.normalize();
    model = models::make_model(
        models::ModelOptions(a.model, {all.channels(), all.height(), all.width()}, all.num_classes())
            .hidden(a.hidden)
            .conv_channels(a.conv_channels));
  }
  // How batches become inputs, and the classes' names: what callbacks draw with and checkpoints record.
  std::vector<std::string> names = all.class_names();
  for (int64_t c = int64_t(names.size()); c < model->num_classes(); ++c) names.push_back(std::to_string(c));
  names.resize(size_t(model->num_classes()));
  const models::InputSpec spec =
      models::InputSpec().preprocess(data::Preprocess(preprocess).normalize(normalization)).class_names(names);
  spec.validate(model->input_shape(), model->num_classes(), "--data " + a.data.data);

  // A layer method for the attribution callback needs a layer to work on: checked before any work.
  if (wants(a, "attribution") && explain::find_attribution_method(a.attribution_method).uses_layer())
    for_flag("--attribution-method", a.attribution_method, [&] { return explain::default_cam_layer(*model); });

  // 4. The other ranks, then (rank 0 only) the run directory, claimed for this run.
  const c10::Device device = distributed::rank_device(options.device(), env);
  const std::shared_ptr<distributed::Communicator> world = join_world(a.distributed, env, device);
  const bool writes = world->rank() == 0;
  std::optional<train::RunDirectory> run;
  std::string checkpoint_dir;
  if (!a.logdir.empty()) {
    if (writes) run.emplace(a.logdir, !a.resume.empty(), "--logdir");
    checkpoint_dir = (std::filesystem::path(a.logdir) / "checkpoints").string();
  }
  train::Trainer trainer(train::TrainerOptions(options).device(device).checkpoint_dir(checkpoint_dir).quiet(a.quiet || !writes));
  trainer.distribute(world, train::DataParallelOptions()
                                .bucket_cap_mb(a.distributed.bucket_cap_mb)
                                .overlap_backward(!a.distributed.no_overlap));
  if (!a.logdir.empty() && writes) {
    trainer.add_logger(
        std::make_shared<train::CsvLogger>((std::filesystem::path(a.logdir) / "metrics.csv").string(), resumed_step));
    if (!a.no_tensorboard)
      trainer.add_logger(std::make_shared<train::TensorBoardLogger>(a.logdir));
    else if (!a.callbacks.empty())
      trainer.add_logger(std::make_shared<train::ImageFileLogger>((std::filesystem::path(a.logdir) / "figures").string()));
  }
  add_callbacks(a, trainer, parts[1]);
  if (!a.quiet && writes) {
    std::printf("training %s on %s (%s, %lldx%lldx%lld%s): %lld train / %lld val samples, %lld epochs",
                terminal_text(model->name()).c_str(), terminal_text(loaded.directory).c_str(), data::format_name(loaded.format),
                static_cast<long long>(all.channels()), static_cast<long long>(all.height()),
                static_cast<long long>(all.width()), all.in_memory() ? "" : ", decoded per batch",
                static_cast<long long>(parts[0].size()), static_cast<long long>(parts[1].size()),
                static_cast<long long>(a.epochs));
    if (world->world_size() > 1) std::printf(", %d ranks", world->world_size());
    std::printf("\n");
  }
  std::fflush(stdout);
  const train::FitResult r = trainer.fit(*model, spec, parts[0], parts[1], resumed ? &*resumed : nullptr);
  if (!writes) return;

  std::printf("val_loss %.4f  val_acc %.4f  seconds %.2f  samples/s %.0f  checkpoint %s\n", r.val_loss, r.val_acc,
              r.seconds, r.samples_per_second,
              r.best_checkpoint.empty() ? "(none: no --logdir)" : terminal_text(r.best_checkpoint).c_str());
  if (!a.summary_json.empty()) {
    nlohmann::json j = {{"val_loss", r.val_loss},     {"val_acc", r.val_acc},
                        {"epochs", r.epochs},         {"seconds", r.seconds},
                        {"samples_per_s", r.samples_per_second}, {"checkpoint", r.best_checkpoint},
                        {"last_checkpoint", r.last_checkpoint},  {"model", model->name()},
                        {"data", a.data.data}, {"format", data::format_name(loaded.format)},
                        {"world_size", r.world_size}, {"all_reduce_seconds", r.all_reduce_seconds}};
    write_output(a.summary_json, json_text(j) + "\n");
  }
}

}  // namespace

Run add_train_command(CLI::App& app) {
  auto a = std::make_shared<TrainArgs>();
  CLI::App* cmd = app.add_subcommand("train", "Train a model on a dataset, with checkpoints and metrics");
  const auto positive = [](double v) { return v > 0; };
  const auto any = [](double) { return true; };
  add_data_options(*cmd, a->data, false);
  std::string architectures = "the architecture:";
  for (const models::ArchitectureInfo& arch : models::architectures())
    architectures += std::string("\n  ") + arch.name + ": " + arch.help;
  cmd->add_option("--model", a->model, architectures)
      ->check(CLI::IsMember(models::architecture_names()))
      ->capture_default_str();
  add_integer(*cmd, "--epochs", a->epochs, 1, 1000000, "epochs to train (in total, when resuming)");
  add_integer(*cmd, "--batch-size", a->batch_size, 1, 1 << 20, "training batch size");
  add_real(*cmd, "--lr", a->lr, [](double v) { return v > 0 && v <= 10; }, "a learning rate in (0, 10]",
           "learning rate")
      ->default_str("the architecture's (--model)");
  cmd->add_option("--optimizer", a->optimizer, "adam or sgd (with --momentum)")
      ->check(CLI::IsMember(train::optimizer_names()))
      ->capture_default_str();
  add_real(*cmd, "--momentum", a->momentum, [](double v) { return v >= 0 && v < 1; }, "a number in [0, 1)",
           "sgd momentum");
  add_unsigned(*cmd, "--seed", a->seed, "seed for initialisation, the split and shuffling");
  add_integer(*cmd, "--threads", a->threads, 0, max_threads(), "compute threads (0 = one per core)");
  add_device(*cmd, "--device", a->device, "cpu or cuda[:N]");
  cmd->add_option("--data-on-device", a->data_on_device,
                  "with --device cuda: keep the images on the GPU and make batches there (auto: when they take at most "
                  "1 GiB; on; off)")
      ->check(CLI::IsMember(train::data_residence_names()))
      ->capture_default_str();
  cmd->add_option("--logdir", a->logdir, "run directory: TensorBoard events, metrics.csv and checkpoints/ "
                                          "(none written without it); one run at a time");
  cmd->add_option("--summary-json", a->summary_json, "write val_loss, val_acc, epochs, seconds, samples_per_s "
                                                     "and checkpoint as JSON to this file");
  cmd->add_option("--resume", a->resume, "continue from this checkpoint (weights, optimizer, epoch)");
  add_integer(*cmd, "--train-size", a->train_size, 0, int64_t(1) << 40,
              "training samples (the rest validate); 0: 55,000 of 60,000, else 11/12");
  add_integer(*cmd, "--log-every-n-steps", a->log_every_n_steps, 1, int64_t(1) << 40,
              "log train_loss_step every n steps (and at each epoch's end)");
  cmd->add_flag("--no-tensorboard", a->no_tensorboard,
                "no event files: metrics to metrics.csv only, callback figures as PNG/GIF files under LOGDIR/figures");
  cmd->add_option("--callbacks", a->callbacks, "confused, attribution, morph (comma-separated)")->delimiter(',');
  add_integer(*cmd, "--confused-top-k", a->confused_top_k, 1, 1024, "confused: figures per logging batch");
  add_integer(*cmd, "--confused-interval", a->confused_interval, 1, int64_t(1) << 40, "confused: look at every n-th batch");
  add_real(*cmd, "--confused-min-logit", a->confused_min_logit, any, "a finite number",
           "confused: a sample's top logit must reach this");
  add_real(*cmd, "--confused-max-diff", a->confused_max_diff, positive, "a finite number > 0",
           "confused: top-2 logit gap below this");
  add_real(*cmd, "--projection-factor", a->projection_factor, [](double v) { return v >= 0; }, "a finite number >= 0",
           "confused: k in x + k * gradient");
  cmd->add_option("--attribution-method", a->attribution_method,
                  "attribution: " + explain::attribution_method_names() + " (CAMs on the last N x C x H x W layer)")
      ->capture_default_str();
  add_integer(*cmd, "--probes", a->probes, 1, 256, "attribution: the first N validation samples");
  add_integer(*cmd, "--morph-probes", a->morph_probes, 1, 64, "morph: the first N validation samples");
  add_integer(*cmd, "--morph-steps", a->morph_steps, 1, 10000, "morph: at most this many steps");
  add_integer(*cmd, "--hidden", a->hidden, 1, 1 << 16, "mlp hidden width and cnn head width");
  add_integer(*cmd, "--conv-channels", a->conv_channels, 1, 4096, "cnn: channels of the first conv block (x2 in the second)");
  cmd->add_flag("--normalize", a->normalize,
                "normalise inputs with the training split's mean and std (else the --preprocess preset's, if any)");
  cmd->add_flag("-q,--quiet", a->quiet, "print only the final summary line");
  add_distributed_options(*cmd, a->distributed, true);
  return [a] { run_train(*a); };
}

}  // namespace glassbox::cli
