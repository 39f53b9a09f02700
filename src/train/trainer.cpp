#include "glassbox/train/trainer.h"

#include <torch/nn/functional/loss.h>
#include <torch/optim/adam.h>
#include <torch/optim/sgd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>
#include <optional>

#include "glassbox/models/checkpoint.h"
#include "glassbox/util/atomic-file.h"
#include "glassbox/util/error.h"
#include "glassbox/util/device.h"
#include "glassbox/util/threads.h"
#include "progress.h"

namespace F = torch::nn::functional;

namespace glassbox::train {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }


// The learning rate in effect: the option, or the architecture's default when it is 0.
double learning_rate(const TrainerOptions& o, const models::ModuleClassifier& model) {
  return o.learning_rate() > 0 ? o.learning_rate() : models::default_learning_rate(model.options().architecture());
}

// Options already validated (validate_options).
std::unique_ptr<torch::optim::Optimizer> make_optimizer(const TrainerOptions& o, const models::ModuleClassifier& model,
                                                        std::vector<at::Tensor> params) {
  const double lr = learning_rate(o, model);
  if (o.optimizer() == OptimizerKind::sgd)
    return std::make_unique<torch::optim::SGD>(params, torch::optim::SGDOptions(lr).momentum(o.momentum()));
  return std::make_unique<torch::optim::Adam>(params, torch::optim::AdamOptions(lr));
}

void check_fits(const models::Classifier& model, const data::Dataset& d, const char* what) {
  const models::InputShape s = model.input_shape();
  GLASSBOX_CHECK(d.channels() == s.channels && d.height() == s.height && d.width() == s.width, what, " data is ",
                 d.channels(), "x", d.height(), "x", d.width(), ", but the model ", model.name(), " takes ",
                 s.channels, "x", s.height, "x", s.width);
  GLASSBOX_CHECK(d.num_classes() <= model.num_classes(), what, " data has ", d.num_classes(),
                 " classes, but the model scores ", model.num_classes());
}

}  // namespace

OptimizerKind parse_optimizer(const std::string& name) {
  if (name == "adam") return OptimizerKind::adam;
  if (name == "sgd") return OptimizerKind::sgd;
  throw Error("optimizer '" + printable_excerpt(name) + "': expected adam or sgd");
}

const char* optimizer_name(OptimizerKind kind) { return kind == OptimizerKind::sgd ? "sgd" : "adam"; }

void validate_options(const TrainerOptions& o) {
  GLASSBOX_CHECK(o.max_epochs() >= 1, "max_epochs ", o.max_epochs(), ": expected at least 1");
  GLASSBOX_CHECK(o.batch_size() >= 1, "batch_size ", o.batch_size(), ": expected at least 1");
  GLASSBOX_CHECK(o.learning_rate() >= 0 && std::isfinite(o.learning_rate()), "learning_rate ", o.learning_rate(),
                 ": expected a positive learning rate (or 0: the architecture's default)");
  GLASSBOX_CHECK(o.momentum() >= 0 && o.momentum() < 1, "momentum ", o.momentum(), ": expected 0 <= m < 1");
  GLASSBOX_CHECK(o.threads() >= 0 && o.threads() <= max_threads(), "threads ", o.threads(), ": expected 0 (one per core) to ",
                 max_threads());
  check_device(o.device());
}

Trainer::Trainer(TrainerOptions options) : options_(std::move(options)) {}
Trainer::~Trainer() = default;

void Trainer::add_callback(std::shared_ptr<Callback> callback) { callbacks_.push_back(std::move(callback)); }
void Trainer::add_logger(std::shared_ptr<Logger> logger) { loggers_.push_back(std::move(logger)); }

std::map<std::string, double> Trainer::evaluate(models::Classifier& model, const data::Dataset& d) {
  GLASSBOX_CHECK(d.size() > 0, "evaluate: empty dataset");
  torch::NoGradGuard no_grad;
  models::EvalModeGuard eval(model);
  const c10::Device device = options_.device();
  const int64_t bs = std::max<int64_t>(1, options_.eval_batch_size());
  double loss_sum = 0;
  int64_t correct = 0;
  for (int64_t begin = 0; begin < d.size(); begin += bs) {
    data::Batch b = d.batch(begin, std::min(d.size(), begin + bs));
    const at::Tensor x = b.x.to(device), y = b.y.to(device);
    const at::Tensor logits = model.forward(x);
    loss_sum += F::cross_entropy(logits, y, F::CrossEntropyFuncOptions().reduction(torch::kSum)).item<double>();
    correct += logits.argmax(1).eq(y).sum().item<int64_t>();
  }
  return {{"val_loss", loss_sum / d.size()}, {"val_acc", double(correct) / d.size()}};
}

FitResult Trainer::fit(models::ModuleClassifier& model, const data::Dataset& train, const data::Dataset& val,
                       const models::CheckpointFile* resume) {
  const TrainerOptions& o = options_;
  validate_options(o);
  GLASSBOX_CHECK(train.size() > 0, "training data is empty");
  GLASSBOX_CHECK(val.size() > 0, "validation data is empty");
  check_fits(model, train, "training");
  check_fits(model, val, "validation");
  configure_threads(o.threads());
  const c10::Device device = o.device();
  if (!o.checkpoint_dir().empty()) ensure_writable_directory(o.checkpoint_dir());

  model.to(device);
  std::unique_ptr<torch::optim::Optimizer> optimizer = make_optimizer(o, model, model.parameters());

  int64_t start_epoch = 0, step = 0;
  double best_val_loss = std::numeric_limits<double>::infinity();
  std::optional<models::CheckpointFile> opened;
  if (resume == nullptr && !o.resume_from().empty()) resume = &opened.emplace(o.resume_from());
  if (resume != nullptr) {
    const models::CheckpointFile& checkpoint = *resume;
    checkpoint.load_weights(model);
    checkpoint.load_optimizer_state(*optimizer);
    const models::CheckpointMeta& resumed = checkpoint.meta();
    start_epoch = resumed.epoch;
    step = resumed.global_step;
    if (auto it = resumed.metrics.find("best_val_loss"); it != resumed.metrics.end()) best_val_loss = it->second;
    GLASSBOX_CHECK(start_epoch < o.max_epochs(), checkpoint.path(), ": already trained ", start_epoch,
                   " epochs, nothing left for max_epochs ", o.max_epochs());
  }

  models::CheckpointMeta meta;
  meta.model = model.options();
  meta.class_names = train.class_names();
  meta.class_names.resize(static_cast<size_t>(model.num_classes()));
  for (size_t c = train.class_names().size(); c < meta.class_names.size(); ++c) meta.class_names[c] = std::to_string(c);
  meta.normalization = train.normalization();
  meta.preprocess = train.preprocess();
  meta.optimizer = optimizer_name(o.optimizer());
  meta.learning_rate = learning_rate(o, model);
  meta.seed = o.seed();

  Progress progress(o.progress() && !o.quiet());
  FitResult result;
  const auto fit_start = Clock::now();
  double train_seconds = 0;
  int64_t train_samples = 0;
  const int64_t n = train.size(), bs = o.batch_size();
  const int64_t batches = (n + bs - 1) / bs;

  for (auto& cb : callbacks_) cb->on_fit_start({model, start_epoch, step});
  for (int64_t epoch = start_epoch; epoch < o.max_epochs(); ++epoch) {
    model.train(true);
    for (auto& cb : callbacks_) cb->on_train_epoch_start({model, epoch, step});
    progress.start_epoch(epoch, o.max_epochs(), batches);
    const auto epoch_start = Clock::now();
    const at::Tensor order = data::epoch_order(n, o.seed(), epoch);
    double loss_sum = 0;
    for (int64_t b = 0; b < batches; ++b) {
      const int64_t begin = b * bs, end = std::min(n, begin + bs);
      data::Batch batch = train.batch(order.slice(0, begin, end));
      const at::Tensor x = batch.x.to(device), y = batch.y.to(device);
      const at::Tensor logits = model.forward(x);
      const at::Tensor loss = F::cross_entropy(logits, y);
      // Drop the gradients rather than zero them (as zero_grad(set_to_none=True)): backward then
      // hands over its fresh gradient tensors instead of adding into zeroed ones.
      for (auto& group : optimizer->param_groups())
        for (auto& p : group.params()) p.mutable_grad() = at::Tensor();
      loss.backward();
      optimizer->step();
      ++step;
      const double loss_value = loss.item<double>();
      GLASSBOX_CHECK(std::isfinite(loss_value), "training diverged at epoch ", epoch, " step ", step, ": loss ",
                     loss_value, " (try a lower --lr)");
      loss_sum += loss_value * double(end - begin);
      // Every n steps, and the epoch's last step so that short epochs are logged too.
      if (!loggers_.empty() && (step % std::max<int64_t>(1, o.log_every_n_steps()) == 0 || b + 1 == batches)) {
        const std::map<std::string, double> step_metrics{{"train_loss_step", loss_value}};
        for (auto& logger : loggers_) logger->log_metrics(step_metrics, step);
      }
      if (!callbacks_.empty()) {
        const at::Tensor detached = logits.detach();
        const BatchContext ctx{model, x, y, detached, loss_value, b, step, epoch};
        for (auto& cb : callbacks_) cb->on_train_batch_end(ctx);
      }
      progress.update(b, end, loss_value);
    }
    train_seconds += seconds_since(epoch_start);
    train_samples += n;

    std::map<std::string, double> metrics = evaluate(model, val);
    metrics["train_loss_epoch"] = loss_sum / n;
    metrics["epoch"] = double(epoch);
    metrics["lr"] = optimizer->param_groups().front().options().get_lr();
    for (auto& cb : callbacks_) cb->on_validation_end({model, epoch, step}, metrics);
    for (auto& logger : loggers_) {
      logger->log_metrics(metrics, step);
      logger->flush();
    }
    const bool best = metrics["val_loss"] < best_val_loss;
    if (best) best_val_loss = metrics["val_loss"];

    result.val_loss = metrics["val_loss"];
    result.val_acc = metrics["val_acc"];
    result.epochs = epoch + 1;
    result.global_step = step;
    if (!o.checkpoint_dir().empty()) {
      meta.epoch = epoch + 1;
      meta.global_step = step;
      meta.metrics = metrics;
      meta.metrics["best_val_loss"] = best_val_loss;
      const std::string dir = o.checkpoint_dir();
      result.last_checkpoint = (std::filesystem::path(dir) / "last.ckpt").string();
      model.to(c10::kCPU);  // checkpoints are device-neutral
      save_checkpoint(result.last_checkpoint, model, optimizer.get(), meta);
      if (best) save_checkpoint((std::filesystem::path(dir) / "best.ckpt").string(), model, optimizer.get(), meta);
      model.to(device);
      result.best_checkpoint = (std::filesystem::path(dir) / "best.ckpt").string();
    }
    char summary[128];
    std::snprintf(summary, sizeof summary, "train_loss %.4f  val_loss %.4f  val_acc %.4f", metrics["train_loss_epoch"],
                  metrics["val_loss"], metrics["val_acc"]);
    progress.end_epoch(summary);
    for (auto& cb : callbacks_) cb->on_train_epoch_end({model, epoch, step});
  }
  for (auto& cb : callbacks_) cb->on_fit_end({model, o.max_epochs(), step});
  result.seconds = seconds_since(fit_start);
  result.samples_per_second = train_seconds > 0 ? train_samples / train_seconds : 0;
  return result;
}

}  // namespace glassbox::train
