#include "glassbox/train/training-run.h"

#include <torch/utils.h>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <thread>

#include "glassbox/data/named.h"
#include "glassbox/train/csv-logger.h"
#include "glassbox/train/image-file-logger.h"
#include "glassbox/train/tensorboard-logger.h"
#include "glassbox/train/trainer.h"
#include "glassbox/util/bounded-json.h"
#include "glassbox/util/error.h"

namespace glassbox::train {

TrainingRun prepare_training_run(const TrainingRunOptions& o) {
  TrainingRun run;
  if (!o.resume().empty()) {
    run.resumed = std::make_unique<models::CheckpointFile>(o.resume());
    const int64_t done = run.resumed->meta().epoch;
    GLASSBOX_CHECK_PARAM(done < o.max_epochs(), "resume", o.resume(), "already trained ", done,
                         " epochs, nothing left for max_epochs ", o.max_epochs());
    run.resumed_step = run.resumed->meta().global_step;
  } else {
    models::find_architecture(o.architecture());  // an unknown name fails before the data is read
  }
  // A resumed run sees its inputs exactly as before: preprocessing and normalisation come from the
  // checkpoint. The data is read as pixels; the spec normalises.
  const data::Preprocess preprocess = run.resumed ? run.resumed->meta().preprocess : o.preprocess();
  const int threads = o.threads() > 0 ? o.threads() : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  run.loaded = data::load_dataset(
      o.data(), data::Split::train,
      data::DatasetOptions().preprocess(data::Preprocess(preprocess).normalize({})).threads(threads).cache_bytes(o.cache_bytes()));
  const data::Dataset& all = run.loaded.dataset;
  std::vector<int64_t> sizes = data::default_train_val_sizes(all.size());
  if (o.train_size() > 0) {
    GLASSBOX_CHECK_PARAM(o.train_size() < all.size(), "train_size", o.train_size(), "the training file has ", all.size(),
                         " images, expected fewer so that some remain for validation");
    sizes = {o.train_size(), all.size() - o.train_size()};
  }
  GLASSBOX_CHECK_PARAM(sizes[0] > 0 && sizes[1] > 0, "data", o.data(), all.size(),
                       " images are too few to split into training and validation");
  std::vector<data::Dataset> parts = data::random_split(all, sizes, o.seed());
  run.train = std::move(parts[0]);
  run.val = std::move(parts[1]);

  torch::manual_seed(o.seed());
  data::Normalization normalization;
  const models::InputShape shape{all.channels(), all.height(), all.width()};
  if (run.resumed) {
    run.model = run.resumed->make_model();
    normalization = run.resumed->meta().normalization;
    const models::InputShape m = run.model->input_shape();
    GLASSBOX_CHECK_PARAM(shape.channels == m.channels && shape.height == m.height && shape.width == m.width, "data",
                         o.data(), "images are ", shape.channels, "x", shape.height, "x", shape.width,
                         ", but the checkpoint's model takes ", m.channels, "x", m.height, "x", m.width);
  } else {
    normalization = o.normalize_from_data() ? run.train.compute_normalization() : preprocess.normalize();
    run.model = models::make_model(models::ModelOptions(o.architecture(), shape, all.num_classes())
                                       .hidden(o.hidden())
                                       .conv_channels(o.conv_channels()));
  }
  // The data's class names, one per class of the model (its indices where the data has none).
  std::vector<std::string> names = all.class_names();
  for (int64_t c = int64_t(names.size()); c < run.model->num_classes(); ++c) names.push_back(std::to_string(c));
  names.resize(size_t(run.model->num_classes()));
  run.spec = models::InputSpec().preprocess(data::Preprocess(preprocess).normalize(normalization)).class_names(names);
  run.spec.validate(run.model->input_shape(), run.model->num_classes(), "data " + o.data());
  return run;
}

std::string TrainingRun::description() const {
  const data::Dataset& all = loaded.dataset;
  char text[512];
  std::snprintf(text, sizeof text, " (%s, %lldx%lldx%lld%s): %lld train / %lld val samples", data::format_name(loaded.format),
                static_cast<long long>(all.channels()), static_cast<long long>(all.height()),
                static_cast<long long>(all.width()), all.in_memory() ? "" : ", decoded per batch",
                static_cast<long long>(train.size()), static_cast<long long>(val.size()));
  return model->name() + " on " + loaded.directory + text;
}

void add_run_loggers(Trainer& trainer, const std::string& run_directory, int64_t resumed_step, bool tensorboard) {
  const std::filesystem::path dir(run_directory);
  trainer.add_logger(std::make_shared<CsvLogger>((dir / "metrics.csv").string(), resumed_step));
  if (tensorboard)
    trainer.add_logger(std::make_shared<TensorBoardLogger>(run_directory));
  else
    trainer.add_logger(std::make_shared<ImageFileLogger>((dir / "figures").string()));
}

std::string fit_summary_json(const FitResult& r, const TrainingRun& run, const TrainingRunOptions& o) {
  const nlohmann::json j = {{"val_loss", r.val_loss},
                            {"val_acc", r.val_acc},
                            {"epochs", r.epochs},
                            {"seconds", r.seconds},
                            {"samples_per_s", r.samples_per_second},
                            {"checkpoint", r.best_checkpoint},
                            {"last_checkpoint", r.last_checkpoint},
                            {"model", run.model->name()},
                            {"data", o.data()},
                            {"format", data::format_name(run.loaded.format)},
                            {"world_size", r.world_size},
                            {"all_reduce_seconds", r.all_reduce_seconds}};
  return json_text(j) + "\n";
}

}  // namespace glassbox::train
