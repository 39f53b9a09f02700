// The seed tutorial's "putting it all together" in C++ (the README shows the same code):
// the seed's model on mnist, split 11/12, batch 64, Adam 0.005, checkpoints and a CSV log.
#include <cstdio>
#include <memory>

#include "glassbox/data/named.h"
#include "glassbox/models/architectures.h"
#include "glassbox/train/csv-logger.h"
#include "glassbox/train/tensorboard-logger.h"
#include "glassbox/train/trainer.h"
#include "glassbox/util/atomic-file.h"

using namespace glassbox;

int main() {
  // data
  data::Dataset dataset = data::load_idx_dataset("mnist", data::Split::train);
  auto parts = data::random_split(dataset, data::default_train_val_sizes(dataset.size()), /*seed=*/0);

  // model: the seed's LitClassifier
  auto model = models::make_model(models::ModelOptions("linear", {1, 28, 28}, 10));

  // trainer, with a logger attached
  ensure_writable_directory("runs/seed");
  train::Trainer trainer(train::TrainerOptions().max_epochs(2).batch_size(64).learning_rate(0.005)
                             .checkpoint_dir("runs/seed/checkpoints"));
  trainer.add_logger(std::make_shared<train::CsvLogger>("runs/seed/metrics.csv"));
  trainer.add_logger(std::make_shared<train::TensorBoardLogger>("runs/seed"));

  // train!
  const train::FitResult result = trainer.fit(*model, parts[0], parts[1]);
  std::printf("val_acc %.4f, checkpoint %s\n", result.val_acc, result.best_checkpoint.c_str());
}
