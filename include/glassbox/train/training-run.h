// What a training run starts from, in one call: the data read and split into training and validation,
// and the model with its input specification, new or resumed from a checkpoint. Everything is read and
// checked here, before the caller creates a run directory or starts other ranks' work; then
//
//   auto run = glassbox::train::prepare_training_run(glassbox::train::TrainingRunOptions().data("mnist"));
//   glassbox::train::Trainer trainer(glassbox::train::TrainerOptions().max_epochs(2));
//   trainer.fit(*run.model, run.spec, run.train, run.val, run.resumed.get());
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "glassbox/data/dataset.h"
#include "glassbox/data/load.h"
#include "glassbox/data/preprocess.h"
#include "glassbox/models/architectures.h"
#include "glassbox/models/checkpoint.h"
#include "glassbox/models/input-spec.h"
#include "glassbox/models/model-options.h"
#include "glassbox/util/arg.h"

namespace glassbox::train {

struct FitResult;
class Trainer;

struct TrainingRunOptions {
  // A named dataset (mnist, fashion-mnist) or a directory (data/load.h); its training split is read.
  GLASSBOX_ARG(std::string, data) = "mnist";
  // How images become inputs (channels, resize, crop, normalisation). A resumed run takes the
  // checkpoint's instead, so that it sees its images exactly as before.
  GLASSBOX_ARG(data::Preprocess, preprocess);
  // Normalise with the training part's own mean and std instead of the preprocessing's.
  GLASSBOX_ARG(bool, normalize_from_data) = false;
  // Training samples; the rest validate. 0: data::default_train_val_sizes (55,000 of 60,000, else 11/12).
  GLASSBOX_ARG(int64_t, train_size) = 0;
  // The split's and the new model's initialisation's seed.
  GLASSBOX_ARG(uint64_t, seed) = 0;
  GLASSBOX_ARG(int, threads) = 0;           // decoding threads (0: one per core)
  GLASSBOX_ARG(int64_t, cache_bytes) = -1;  // image folders: decoded images kept up to this (-1: half the free memory)
  // A new model: the architecture (models::architectures()) and its widths.
  GLASSBOX_ARG(std::string, architecture) = models::architectures().front().name;
  GLASSBOX_ARG(int64_t, hidden) = models::ModelOptions("", {}, 2).hidden();
  GLASSBOX_ARG(int64_t, conv_channels) = models::ModelOptions("", {}, 2).conv_channels();
  // A checkpoint to continue from, instead of a new model; it must have trained fewer than max_epochs.
  GLASSBOX_ARG(std::string, resume);
  GLASSBOX_ARG(int64_t, max_epochs) = 1;
};

struct TrainingRun {
  data::LoadedDataset loaded;  // the whole training split as read
  data::Dataset train, val;
  std::unique_ptr<models::ModuleClassifier> model;
  // The preprocessing and normalisation batches go through, and the classes' names (the data's, or
  // the classes' indices): what callbacks draw with and checkpoints record.
  models::InputSpec spec;
  std::unique_ptr<models::CheckpointFile> resumed;  // when resuming
  int64_t resumed_step = -1;                        // its global step, or -1

  // "cnn on /data/mnist (idx, 1x28x28): 55000 train / 5000 val samples".
  std::string description() const;
};

// Reads the data and the checkpoint, splits, and builds the model. Errors name the file at fault, or
// the option (train_size, resume, architecture, ...) and its value.
TrainingRun prepare_training_run(const TrainingRunOptions& options);

// Where a run directory's files go: metrics.csv (continued after `resumed_step` when resuming), and
// either TensorBoard event files or, without them, callback figures as files under figures/.
void add_run_loggers(Trainer& trainer, const std::string& run_directory, int64_t resumed_step, bool tensorboard);

// A fit's summary as one JSON object: val_loss, val_acc, epochs, seconds, samples_per_s, checkpoint,
// last_checkpoint, world_size, all_reduce_seconds, and the run's model, data and format.
std::string fit_summary_json(const FitResult& result, const TrainingRun& run, const TrainingRunOptions& options);

}  // namespace glassbox::train
