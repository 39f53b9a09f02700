#include "glassbox/train/trainer.h"

#include <torch/nn/functional/loss.h>
#include <torch/optim/adam.h>
#include <torch/optim/sgd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>
#include <optional>
#include <utility>

#include "glassbox/models/checkpoint.h"
#include "glassbox/util/atomic-file.h"
#include "glassbox/util/error.h"
#include "glassbox/util/device.h"
#include "glassbox/util/threads.h"
#include "glassbox/util/enum-names.h"
#include "optimizer-state.h"
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


// A specification's normalisation as tensors on the device batches are made on, made once.
class BatchNormalizer {
 public:
  BatchNormalizer(const models::InputSpec& spec, const data::Dataset& d) {
    if (spec.normalization().enabled()) spec.normalization().tensors(d.channels(), d.device(), mean_, std_);
  }
  // In place: a batch is a fresh tensor.
  at::Tensor operator()(at::Tensor pixels) const { return mean_.defined() ? pixels.sub_(mean_).div_(std_) : pixels; }

 private:
  at::Tensor mean_, std_;
};

// Sum of cross-entropy and count of correct predictions over `indices` of `d` (all of it when
// undefined), then the totals over ranks.
std::map<std::string, double> evaluate_on(models::Classifier& model, const models::InputSpec& spec,
                                          const data::Dataset& d, c10::Device device, int64_t batch_size,
                                          DataParallel* ranks) {
  const BatchNormalizer normalize(spec, d);
  torch::NoGradGuard no_grad;
  models::EvalModeGuard eval(model);
  const at::Tensor indices = ranks ? ranks->shard_without_padding(d.size()) : at::Tensor();
  const int64_t n = indices.defined() ? indices.size(0) : d.size();
  const int64_t bs = std::max<int64_t>(1, batch_size);
  // Summed on the device and read once: a read per batch would wait for the device each time.
  at::Tensor sums = at::zeros({2}, at::TensorOptions(at::kDouble).device(device));
  for (int64_t begin = 0; begin < n; begin += bs) {
    const int64_t end = std::min(n, begin + bs);
    data::Batch b = indices.defined() ? d.batch(indices.slice(0, begin, end)) : d.batch(begin, end);
    const at::Tensor x = normalize(b.x).to(device), y = b.y.to(device);
    const at::Tensor logits = model.forward(x);
    sums[0] += F::cross_entropy(logits, y, F::CrossEntropyFuncOptions().reduction(torch::kSum));
    sums[1] += logits.argmax(1).eq(y).sum();
  }
  const at::Tensor host = sums.to(at::kCPU);
  double loss_sum = host[0].item<double>(), correct = host[1].item<double>();
  if (ranks) {
    ranks->communicator().set_activity("validation");
    const std::vector<double> total = distributed::all_reduce_sum(ranks->communicator(), {loss_sum, correct}, "validation metrics");
    loss_sum = total[0], correct = total[1];
  }
  return {{"val_loss", loss_sum / double(d.size())}, {"val_acc", correct / double(d.size())}};
}

// One call of fit(), in its parts: setup (optimizer, resume, the ranks' common start), an epoch of
// training, validation, checkpoints.
class FitRun {
 public:
  FitRun(const TrainerOptions& options, const std::vector<std::shared_ptr<Callback>>& callbacks,
         std::shared_ptr<Logger> logger, DataParallel* ranks, models::ModuleClassifier& model,
         const models::InputSpec& spec, const data::Dataset& train, const data::Dataset& val)
      : o_(options), callbacks_(callbacks), logger_(std::move(logger)), ranks_(ranks), model_(model), spec_(spec), train_(&train),
        val_(&val), device_(options.device()), progress_(options.progress() && !options.quiet() && writes()) {}

  bool writes() const { return ranks_ == nullptr || ranks_->writes(); }

  void setup(const models::CheckpointFile* resume) {
    if (writes() && !o_.checkpoint_dir().empty()) ensure_writable_directory(o_.checkpoint_dir());
    model_.to(device_);
    place_data();
    setup_normalizer();
    optimizer_ = make_optimizer(o_, model_, model_.parameters());
    std::optional<models::CheckpointFile> opened;
    if (resume == nullptr && !o_.resume_from().empty()) resume = &opened.emplace(o_.resume_from());
    if (resume != nullptr) {
      resume->load_weights(model_);
      resume->load_optimizer_state(*optimizer_);
      move_optimizer_state(*optimizer_, device_);
      const models::CheckpointMeta& resumed = resume->meta();
      start_epoch_ = resumed.epoch;
      step_ = resumed.global_step;
      if (auto it = resumed.metrics.find("best_val_loss"); it != resumed.metrics.end()) best_val_loss_ = it->second;
      GLASSBOX_CHECK(start_epoch_ < o_.max_epochs(), resume->path(), ": already trained ", start_epoch_,
                     " epochs, nothing left for max_epochs ", o_.max_epochs());
    }
    if (ranks_ != nullptr) {
      ranks_->communicator().set_activity("setup");
      distributed::check_equal_across_ranks(ranks_->communicator(), {{"the training set's size", train_->size()},
                                                                     {"the validation set's size", val_->size()},
                                                                     {"the resumed epoch", start_epoch_},
                                                                     {"the resumed step", step_}});
      ranks_->broadcast_state(model_, *optimizer_);
      ranks_->attach(model_.parameters());
    }
    meta_.model = model_.options();
    for (int64_t c = 0; c < model_.num_classes(); ++c) meta_.class_names.push_back(spec_.class_name(c));
    meta_.normalization = spec_.normalization();
    meta_.preprocess = data::Preprocess(spec_.preprocess()).normalize({});
    meta_.optimizer = optimizer_name(o_.optimizer());
    meta_.learning_rate = learning_rate(o_, model_);
    meta_.seed = o_.seed();
  }

  // On a GPU, in-memory data move there once (DataResidence), instead of a copy per batch.
  void place_data() {
    if (device_.is_cpu() || o_.data_residence() == DataResidence::host) return;
    const bool in_memory = train_->in_memory() && val_->in_memory();
    const int64_t sample = train_->channels() * train_->height() * train_->width();
    const int64_t bytes = (train_->size() + val_->size()) * sample;
    if (o_.data_residence() == DataResidence::device)
      GLASSBOX_CHECK(in_memory, "data_residence on: the images are decoded per batch; expected images held in memory");
    else if (!in_memory || bytes > o_.device_data_max_bytes())
      return;
    train_ = &train_on_device_.emplace(train_->to(device_));
    val_ = &val_on_device_.emplace(val_->to(device_));
  }

  void setup_normalizer() { normalize_.emplace(spec_, *train_); }

  FitResult run(const models::CheckpointFile* resume) {
    const auto fit_start = Clock::now();
    setup(resume);
    for (auto& cb : callbacks_) cb->on_fit_start({model_, spec_, start_epoch_, step_, logger_});
    for (int64_t epoch = start_epoch_; epoch < o_.max_epochs(); ++epoch) {
      for (auto& cb : callbacks_) cb->on_train_epoch_start({model_, spec_, epoch, step_, logger_});
      const double train_loss = train_epoch(epoch);
      std::map<std::string, double> metrics = evaluate_on(model_, spec_, *val_, device_, o_.eval_batch_size(), ranks_);
      metrics["train_loss_epoch"] = train_loss;
      metrics["epoch"] = double(epoch);
      metrics["lr"] = optimizer_->param_groups().front().options().get_lr();
      for (auto& cb : callbacks_) cb->on_validation_end({model_, spec_, epoch, step_, logger_}, metrics);
      logger_->log_metrics(metrics, step_);
      logger_->flush();
      const bool best = metrics["val_loss"] < best_val_loss_;
      if (best) best_val_loss_ = metrics["val_loss"];
      result_.val_loss = metrics["val_loss"];
      result_.val_acc = metrics["val_acc"];
      result_.epochs = epoch + 1;
      result_.global_step = step_;
      save_checkpoints(epoch, metrics, best);
      char summary[128];
      std::snprintf(summary, sizeof summary, "train_loss %.4f  val_loss %.4f  val_acc %.4f", metrics["train_loss_epoch"],
                    metrics["val_loss"], metrics["val_acc"]);
      progress_.end_epoch(summary);
      for (auto& cb : callbacks_) cb->on_train_epoch_end({model_, spec_, epoch, step_, logger_});
    }
    for (auto& cb : callbacks_) cb->on_fit_end({model_, spec_, o_.max_epochs(), step_, logger_});
    if (ranks_ != nullptr) {
      // Every rank ends once rank 0's last checkpoint is written (or learns that it could not be).
      ranks_->communicator().set_activity("the end of training");
      ranks_->communicator().barrier("the end of training");
      ranks_->detach();
      result_.all_reduce_seconds = ranks_->all_reduce_wait_seconds();
      result_.world_size = ranks_->world_size();
    }
    result_.seconds = seconds_since(fit_start);
    result_.samples_per_second = train_seconds_ > 0 ? double(train_samples_) / train_seconds_ : 0;
    return result_;
  }

 private:
  // One epoch over this rank's shard; returns the epoch's mean training loss over all ranks' samples.
  double train_epoch(int64_t epoch) {
    model_.train(true);
    const auto epoch_start = Clock::now();
    const at::Tensor order = data::epoch_order(train_->size(), o_.seed(), epoch);
    // On the data's device once an epoch, so that each batch's positions need no copy.
    const at::Tensor mine = (ranks_ ? ranks_->shard(order) : order).to(train_->device());
    const int64_t n = mine.size(0), bs = o_.batch_size(), world = ranks_ ? ranks_->world_size() : 1;
    const int64_t batches = (n + bs - 1) / bs;
    progress_.start_epoch(epoch, o_.max_epochs(), batches);
    // The epoch's loss is summed on the device; a step's loss is read only where a log line, the
    // progress bar or the divergence check needs it, so the host never waits for the device per step.
    at::Tensor loss_sum = at::zeros({}, at::TensorOptions(at::kDouble).device(device_));
    for (int64_t b = 0; b < batches; ++b) {
      const int64_t begin = b * bs, end = std::min(n, begin + bs);
      data::Batch batch = train_->batch(mine.slice(0, begin, end));
      const at::Tensor x = to_device((*normalize_)(batch.x)), y = to_device(batch.y);
      const at::Tensor logits = model_.forward(x);
      const at::Tensor loss = F::cross_entropy(logits, y);
      // Drop the gradients rather than zero them (as zero_grad(set_to_none=True)): backward then
      // hands over its fresh gradient tensors instead of adding into zeroed ones.
      for (auto& group : optimizer_->param_groups())
        for (auto& p : group.params()) p.mutable_grad() = at::Tensor();
      at::Tensor step_loss;  // this step's mean loss over every rank's batch, on the device
      if (ranks_ != nullptr) {
        ranks_->communicator().set_activity(fmt_activity(epoch, step_ + 1));
        ranks_->begin_step(loss);
        loss.backward();
        step_loss = ranks_->finish_step();
      } else {
        loss.backward();
        step_loss = loss.detach();
      }
      optimizer_->step();
      ++step_;
      loss_sum.add_(step_loss, double(end - begin));
      // Every n steps, and the epoch's last step so that short epochs are logged too.
      if (step_ % std::max<int64_t>(1, o_.log_every_n_steps()) == 0 || b + 1 == batches) {
        const double value = step_loss.item<double>();
        check_finite(value, epoch);
        logger_->log_metrics({{"train_loss_step", value}}, step_);
      }
      if (!callbacks_.empty()) {
        const at::Tensor detached = logits.detach();
        const BatchContext ctx{model_, spec_, x, y, detached, step_loss, b, step_, epoch, logger_};
        for (auto& cb : callbacks_) cb->on_train_batch_end(ctx);
      }
      progress_.update(b, end * world, [&] { return step_loss.item<double>(); });  // every rank's samples
    }
    train_seconds_ += seconds_since(epoch_start);
    train_samples_ += n * world;
    const double mean = loss_sum.item<double>() / double(n);
    check_finite(mean, epoch);
    return mean;
  }

  // A batch made on the host reaches a GPU from pinned memory without making the host wait for the copy.
  at::Tensor to_device(const at::Tensor& t) const {
    if (t.device() == device_) return t;
    if (device_.is_cuda() && t.is_cpu()) return t.pin_memory().to(t.options().device(device_), /*non_blocking=*/true);
    return t.to(device_);
  }

  // A loss that is NaN or infinite: training diverged by this step (steps are read now and then, not
  // each one).
  void check_finite(double loss, int64_t epoch) const {
    GLASSBOX_CHECK(std::isfinite(loss), "training diverged at epoch ", epoch, " by step ", step_, ": loss ", loss,
                   " (try a lower learning_rate)");
  }

  static std::string fmt_activity(int64_t epoch, int64_t step) {
    return "training epoch " + std::to_string(epoch) + ", step " + std::to_string(step);
  }

  void save_checkpoints(int64_t epoch, const std::map<std::string, double>& metrics, bool best) {
    if (o_.checkpoint_dir().empty()) return;
    const std::filesystem::path dir = o_.checkpoint_dir();
    result_.last_checkpoint = (dir / "last.ckpt").string();
    result_.best_checkpoint = (dir / "best.ckpt").string();
    if (!writes()) return;
    meta_.epoch = epoch + 1;
    meta_.global_step = step_;
    meta_.metrics = metrics;
    meta_.metrics["best_val_loss"] = best_val_loss_;
    // Serialised from where the weights are (the archive copies each tensor's bytes out); loading maps
    // them to the CPU, so checkpoints stay device-neutral without moving the model back and forth.
    save_checkpoint(result_.last_checkpoint, model_, optimizer_.get(), meta_);
    if (best) save_checkpoint(result_.best_checkpoint, model_, optimizer_.get(), meta_);
  }

  const TrainerOptions& o_;
  const std::vector<std::shared_ptr<Callback>>& callbacks_;
  std::shared_ptr<Logger> logger_;
  DataParallel* ranks_;
  models::ModuleClassifier& model_;
  const models::InputSpec& spec_;
  const data::Dataset* train_;  // the caller's, or their copies on the device
  const data::Dataset* val_;
  std::optional<data::Dataset> train_on_device_, val_on_device_;
  std::optional<BatchNormalizer> normalize_;  // on the training data's device
  const c10::Device device_;
  Progress progress_;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  models::CheckpointMeta meta_;
  int64_t start_epoch_ = 0, step_ = 0;
  double best_val_loss_ = std::numeric_limits<double>::infinity();
  FitResult result_;
  double train_seconds_ = 0;
  int64_t train_samples_ = 0;
};

}  // namespace

namespace {
const char* const kOptimizerNames[] = {"adam", "sgd"};        // OptimizerKind's order
const char* const kResidenceNames[] = {"auto", "on", "off"};  // DataResidence's order
}  // namespace

std::vector<std::string> optimizer_names() { return enum_names(kOptimizerNames); }
OptimizerKind parse_optimizer(const std::string& name) {
  return enum_from_name<OptimizerKind>(kOptimizerNames, name, "optimizer");
}
const char* optimizer_name(OptimizerKind kind) { return enum_name(kOptimizerNames, kind); }

std::vector<std::string> data_residence_names() { return enum_names(kResidenceNames); }
DataResidence parse_data_residence(const std::string& name) {
  return enum_from_name<DataResidence>(kResidenceNames, name, "data_residence");
}

void validate_options(const TrainerOptions& o) {
  GLASSBOX_CHECK_PARAM(o.max_epochs() >= 1, "max_epochs", o.max_epochs(), "expected at least 1");
  GLASSBOX_CHECK_PARAM(o.batch_size() >= 1, "batch_size", o.batch_size(), "expected at least 1");
  GLASSBOX_CHECK_PARAM(o.eval_batch_size() >= 1, "eval_batch_size", o.eval_batch_size(), "expected at least 1");
  GLASSBOX_CHECK_PARAM(o.learning_rate() >= 0 && std::isfinite(o.learning_rate()), "learning_rate", o.learning_rate(),
                       "expected a positive learning rate (or 0: the architecture's default)");
  GLASSBOX_CHECK_PARAM(o.momentum() >= 0 && o.momentum() < 1, "momentum", o.momentum(), "expected 0 <= m < 1");
  GLASSBOX_CHECK_PARAM(o.threads() >= 0 && o.threads() <= max_threads(), "threads", o.threads(),
                       "expected 0 (one per core) to ", max_threads());
  check_device(o.device());
  GLASSBOX_CHECK_PARAM(o.device_data_max_bytes() >= 0, "device_data_max_bytes", o.device_data_max_bytes(), "expected >= 0");
  GLASSBOX_CHECK_PARAM(o.log_every_n_steps() >= 1, "log_every_n_steps", o.log_every_n_steps(), "expected at least 1");
}

Trainer::Trainer(TrainerOptions options) : options_(std::move(options)), loggers_(std::make_shared<LoggerList>()) {}
Trainer::~Trainer() = default;

void Trainer::add_callback(std::shared_ptr<Callback> callback) { callbacks_.push_back(std::move(callback)); }
void Trainer::add_logger(std::shared_ptr<Logger> logger) { loggers_->add(std::move(logger)); }

void Trainer::distribute(std::shared_ptr<distributed::Communicator> communicator, DataParallelOptions options) {
  GLASSBOX_CHECK(communicator != nullptr, "Trainer::distribute: no communicator");
  communicator_ = std::move(communicator);
  data_parallel_ = std::move(options);
}

std::map<std::string, double> Trainer::evaluate(models::Classifier& model, const models::InputSpec& spec,
                                                const data::Dataset& d) {
  GLASSBOX_CHECK(d.size() > 0, "evaluate: empty dataset");
  std::optional<DataParallel> ranks;
  if (communicator_ && communicator_->world_size() > 1) ranks.emplace(communicator_, data_parallel_);
  return evaluate_on(model, spec, d, options_.device(), options_.eval_batch_size(), ranks ? &*ranks : nullptr);
}

FitResult Trainer::fit(models::ModuleClassifier& model, const models::InputSpec& spec, const data::Dataset& train,
                       const data::Dataset& val, const models::CheckpointFile* resume) {
  validate_options(options_);
  spec.validate(model.input_shape(), model.num_classes(), "input spec");
  GLASSBOX_CHECK(train.size() > 0, "training data is empty");
  GLASSBOX_CHECK(val.size() > 0, "validation data is empty");
  check_fits(model, train, "training");
  check_fits(model, val, "validation");
  configure_threads(options_.threads());
  std::optional<DataParallel> ranks;
  if (communicator_ && communicator_->world_size() > 1) {
    GLASSBOX_CHECK(communicator_->device().type() == options_.device().type(), "device ", options_.device().str(),
                   ": the ranks communicate on ", communicator_->device().str(), " (gloo: cpu, nccl: cuda)");
    ranks.emplace(communicator_, data_parallel_);
  }
  // Only the writing rank's loggers record; the others' callbacks see one that drops everything.
  std::shared_ptr<Logger> logger =
      !ranks || ranks->writes() ? std::shared_ptr<Logger>(loggers_) : std::make_shared<LoggerList>();
  FitRun run(options_, callbacks_, logger, ranks ? &*ranks : nullptr, model, spec, train, val);
  return run.run(resume);
}

}  // namespace glassbox::train
