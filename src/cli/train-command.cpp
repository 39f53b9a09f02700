// glassbox train: fit a built-in model on a dataset, with metrics, checkpoints and a summary.
// Every flag, the data and the model are checked before the run directory is created or claimed.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "commands.h"
#include "distributed-flags.h"
#include "flags.h"
#include "glassbox/callbacks/confused-logit.h"
#include "glassbox/callbacks/faithfulness-callback.h"
#include "glassbox/callbacks/probe-callbacks.h"
#include "glassbox/evaluate/evaluation.h"
#include "glassbox/explain/layer-attribution.h"
#include "glassbox/explain/methods.h"
#include "glassbox/train/run-directory.h"
#include "glassbox/train/trainer.h"
#include "glassbox/train/training-run.h"
#include "glassbox/util/atomic-file.h"
#include "glassbox/util/error.h"
#include "glassbox/util/output-paths.h"
#include "glassbox/util/threads.h"
#include "glassbox/util/terminal-text.h"
#include "model-source.h"

namespace glassbox::cli {
namespace {

// The flags bind to the library's option structs: their defaults are the library's.
struct TrainArgs {
  DataArgs data;
  train::TrainerOptions trainer;
  train::TrainingRunOptions run;
  std::string logdir;
  std::string summary_json;
  bool no_tensorboard = false;
  std::vector<std::string> callbacks;
  callbacks::ConfusedLogitOptions confused{1};
  callbacks::AttributionCallbackOptions attribution;
  callbacks::MorphCallbackOptions morph;
  callbacks::FaithfulnessCallbackOptions faithfulness;
  std::string faithfulness_metrics = "deletion,insertion";
  int64_t probes = 8;
  int64_t morph_probes = 4;
  DistributedArgs distributed;
};

const ParamFlags kParamFlags = {{"train_size", "--train-size"}, {"resume", "--resume"}, {"data", "--data"},
                                {"threads", "--threads"},       {"device", "--device"}, {"method", "--attribution-method"}};

bool wants(const TrainArgs& a, const char* callback) {
  return std::find(a.callbacks.begin(), a.callbacks.end(), callback) != a.callbacks.end();
}

// The callbacks named by --callbacks, on the first validation samples; their figures go to the loggers.
void add_callbacks(const TrainArgs& a, train::Trainer& trainer, const data::Dataset& val) {
  at::Tensor x, y;
  if (wants(a, "confused")) trainer.add_callback(std::make_shared<callbacks::ConfusedLogitCallback>(a.confused));
  if (wants(a, "attribution")) {
    callbacks::first_probes(val, std::min(a.probes, val.size()), x, y);
    trainer.add_callback(std::make_shared<callbacks::AttributionCallback>(a.attribution, x, y));
  }
  if (wants(a, "morph")) {
    callbacks::first_probes(val, std::min(a.morph_probes, val.size()), x, y);
    trainer.add_callback(std::make_shared<callbacks::MorphCallback>(a.morph, x, y));
  }
  if (wants(a, "faithfulness")) {
    callbacks::first_probes(val, std::min(a.probes, val.size()), x, y);
    trainer.add_callback(std::make_shared<callbacks::FaithfulnessCallback>(a.faithfulness, x, y));
  }
}

void run_train(TrainArgs& a) {
  // 1. Flags (their ranges were checked as they were read).
  for (const std::string& name : a.callbacks)
    GLASSBOX_CHECK(name == "confused" || name == "attribution" || name == "morph" || name == "faithfulness", "--callbacks ",
                   printable_excerpt(name), ": unknown callback, expected confused, attribution, morph or faithfulness");
  {
    const std::vector<std::string> metrics = split_commas(a.faithfulness_metrics);
    a.faithfulness.metrics(metrics);
    for_params({{"methods", "--faithfulness-method"}, {"metrics", "--faithfulness-metrics"}, {"metric", "--faithfulness-metrics"},
                {"method", "--faithfulness-method"}},
               [&] { evaluate::check_evaluation_request({a.faithfulness.method()}, metrics, a.faithfulness.evaluate_options()); });
  }
  GLASSBOX_CHECK(a.callbacks.empty() || !a.logdir.empty(), "--callbacks ", a.callbacks.empty() ? "" : a.callbacks.front(),
                 ": needs --logdir, where the figures go");
  const explain::AttributionMethod& method =
      for_params(kParamFlags, [&]() -> const explain::AttributionMethod& { return explain::find_attribution_method(a.attribution.method()); });
  GLASSBOX_CHECK(!method.uses_attention(), "--attribution-method ", method.name(),
                 ": reads attention modules, which the trainable architectures have none of");
  for_params(kParamFlags, [&] { train::validate_options(a.trainer); });
  // 2. Output locations, without creating anything. A summary inside the logdir is created with it;
  // anywhere else its directory must exist.
  if (!a.logdir.empty()) check_output_directory("--logdir", a.logdir);
  if (!a.summary_json.empty())
    check_output_file("--summary-json", a.summary_json, {".json"}, !a.logdir.empty() && is_inside(a.summary_json, a.logdir));
  // 2b. Ranks: this process starts them (and is done), or is one of them, or runs alone.
  const distributed::LaunchEnvironment env = start_ranks_or_continue(a.distributed);

  // 3. The data and the model. A resumed run's inputs are prepared as the checkpoint records.
  GLASSBOX_CHECK(a.run.resume().empty() || preprocess_flag_given(a.data).empty(), preprocess_flag_given(a.data),
                 " with --resume: the checkpoint records how its images were prepared");
  a.run.data(a.data.data).preprocess(preprocess_of(a.data)).cache_bytes(a.data.cache_mb < 0 ? -1 : a.data.cache_mb << 20);
  a.run.seed(a.trainer.seed()).threads(a.trainer.threads()).max_epochs(a.trainer.max_epochs());
  const train::TrainingRun run = for_params(kParamFlags, [&] { return train::prepare_training_run(a.run); });
  // A layer method for the attribution callback needs a layer to work on: checked before any work.
  if (wants(a, "attribution") && method.uses_layer())
    for_flag("--attribution-method", method.name(), [&] { return explain::default_cam_layer(*run.model); });

  // 4. The other ranks, then (rank 0 only) the run directory, claimed for this run.
  const c10::Device device = distributed::rank_device(a.trainer.device(), env);
  const std::shared_ptr<distributed::Communicator> world = join_world(a.distributed, env, device);
  const bool writes = world->rank() == 0;
  std::optional<train::RunDirectory> directory;
  if (!a.logdir.empty() && writes) directory.emplace(a.logdir, !a.run.resume().empty(), "--logdir");
  const std::string checkpoints = a.logdir.empty() ? "" : (std::filesystem::path(a.logdir) / "checkpoints").string();
  train::Trainer trainer(train::TrainerOptions(a.trainer).device(device).checkpoint_dir(checkpoints).quiet(a.trainer.quiet() || !writes));
  trainer.distribute(world, train::DataParallelOptions(a.distributed.data_parallel).overlap_backward(!a.distributed.no_overlap));
  if (directory) train::add_run_loggers(trainer, a.logdir, run.resumed_step, !a.no_tensorboard);
  add_callbacks(a, trainer, run.val);
  if (!a.trainer.quiet() && writes)
    std::printf("training %s, %lld epochs%s\n", terminal_text(run.description()).c_str(),
                static_cast<long long>(a.trainer.max_epochs()),
                world->world_size() > 1 ? (", " + std::to_string(world->world_size()) + " ranks").c_str() : "");
  std::fflush(stdout);
  const train::FitResult r = trainer.fit(*run.model, run.spec, run.train, run.val, run.resumed.get());
  if (!writes) return;
  std::printf("val_loss %.4f  val_acc %.4f  seconds %.2f  samples/s %.0f  checkpoint %s\n", r.val_loss, r.val_acc,
              r.seconds, r.samples_per_second,
              r.best_checkpoint.empty() ? "(none: no --logdir)" : terminal_text(r.best_checkpoint).c_str());
  if (!a.summary_json.empty()) write_file_atomically(a.summary_json, train::fit_summary_json(r, run, a.run));
}

}  // namespace

Run add_train_command(CLI::App& app) {
  auto a = std::make_shared<TrainArgs>();
  CLI::App* cmd = app.add_subcommand("train", "Train a model on a dataset, with checkpoints and metrics");
  const auto any = [](double) { return true; };
  const auto non_negative = [](double v) { return v >= 0; };
  add_data_options(*cmd, a->data, false);
  std::string architectures = "the architecture:";
  for (const models::ArchitectureInfo& arch : models::architectures())
    architectures += std::string("\n  ") + arch.name + ": " + arch.help;
  cmd->add_option("--model", a->run.architecture(), architectures)
      ->check(CLI::IsMember(models::architecture_names()))
      ->capture_default_str();
  train::TrainerOptions& t = a->trainer;
  add_integer(*cmd, "--epochs", t.max_epochs(), 1, 1000000, "epochs to train (in total, when resuming)");
  add_integer(*cmd, "--batch-size", t.batch_size(), 1, 1 << 20, "training batch size");
  add_real(*cmd, "--lr", t.learning_rate(), [](double v) { return v > 0 && v <= 10; }, "a learning rate in (0, 10]",
           "learning rate")
      ->default_str("the architecture's (--model)");
  add_choice(*cmd, "--optimizer", t.optimizer(), train::optimizer_names(), "sgd uses --momentum");
  add_real(*cmd, "--momentum", t.momentum(), [](double v) { return v >= 0 && v < 1; }, "a number in [0, 1)", "sgd momentum");
  add_unsigned(*cmd, "--seed", t.seed(), "seed for initialisation, the split and shuffling");
  add_integer(*cmd, "--threads", t.threads(), 0, max_threads(), "compute threads (0 = one per core)");
  add_device(*cmd, "--device", t.device(), "cpu or cuda[:N]");
  add_choice(*cmd, "--data-on-device", t.data_residence(), train::data_residence_names(),
             "with --device cuda: keep the images on the GPU and make batches there (auto: when they take at most 1 GiB)");
  cmd->add_option("--logdir", a->logdir, "run directory: TensorBoard events, metrics.csv and checkpoints/ "
                                          "(none written without it); one run at a time");
  cmd->add_option("--summary-json", a->summary_json, "write val_loss, val_acc, epochs, seconds, samples_per_s "
                                                     "and checkpoint as JSON to this file");
  cmd->add_option("--resume", a->run.resume(), "continue from this checkpoint (weights, optimizer, epoch)");
  add_integer(*cmd, "--train-size", a->run.train_size(), 0, int64_t(1) << 40,
              "training samples (the rest validate); 0: 55,000 of 60,000, else 11/12");
  add_integer(*cmd, "--log-every-n-steps", t.log_every_n_steps(), 1, int64_t(1) << 40,
              "log train_loss_step every n steps (and at each epoch's end)");
  cmd->add_flag("--no-tensorboard", a->no_tensorboard,
                "no event files: metrics to metrics.csv only, callback figures as PNG/GIF files under LOGDIR/figures");
  cmd->add_option("--callbacks", a->callbacks, "confused, attribution, morph, faithfulness (comma-separated)")->delimiter(',');
  add_integer(*cmd, "--confused-top-k", a->confused.top_k(), 1, 1024, "confused: figures per logging batch");
  add_integer(*cmd, "--confused-interval", a->confused.logging_batch_interval(), 1, int64_t(1) << 40,
              "confused: look at every n-th batch");
  add_real(*cmd, "--confused-min-logit", a->confused.min_logit_value(), any, "a finite number",
           "confused: a sample's top logit must reach this");
  add_real(*cmd, "--confused-max-diff", a->confused.max_logit_difference(), [](double v) { return v > 0; },
           "a finite number > 0", "confused: top-2 logit gap below this");
  add_real(*cmd, "--projection-factor", a->confused.projection_factor(), non_negative, "a finite number >= 0",
           "confused: k in x + k * gradient");
  cmd->add_option("--attribution-method", a->attribution.method(),
                  "attribution: " + explain::attribution_method_names() + " (CAMs on the last N x C x H x W layer)")
      ->capture_default_str();
  cmd->add_option("--faithfulness-method", a->faithfulness.method(), "faithfulness: the method evaluated (an input method or a CAM)")
      ->capture_default_str();
  cmd->add_option("--faithfulness-metrics", a->faithfulness_metrics, "faithfulness: metrics logged every epoch (glassbox evaluate --help lists them)")
      ->capture_default_str();
  add_integer(*cmd, "--probes", a->probes, 1, 256, "attribution, faithfulness: the first N validation samples");
  add_integer(*cmd, "--morph-probes", a->morph_probes, 1, 64, "morph: the first N validation samples");
  add_integer(*cmd, "--morph-steps", a->morph.steps(), 1, 10000, "morph: at most this many steps");
  add_integer(*cmd, "--hidden", a->run.hidden(), 1, 1 << 16, "mlp hidden width and cnn head width");
  add_integer(*cmd, "--conv-channels", a->run.conv_channels(), 1, 4096, "cnn: channels of the first conv block (x2 in the second)");
  cmd->add_flag("--normalize", a->run.normalize_from_data(),
                "normalise inputs with the training split's mean and std (else the --preprocess preset's, if any)");
  cmd->add_flag("-q,--quiet", t.quiet(), "print only the final summary line");
  add_distributed_options(*cmd, a->distributed, true);
  return [a] { run_train(*a); };
}

}  // namespace glassbox::cli
