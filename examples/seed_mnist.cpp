// The seed tutorial's "putting it all together", in C++: mnist split 11/12, the seed's model, batch 64,
// Adam 0.005, and the (corrected) ConfusedLogitCallback logging to TensorBoard.
// Run from the repository root after `make demo` or `scripts/setup`: build/seed_mnist
#include <cstdio>
#include <memory>

#include "glassbox/callbacks/confused-logit.h"
#include "glassbox/data/named.h"
#include "glassbox/models/architectures.h"
#include "glassbox/train/tensorboard-logger.h"
#include "glassbox/train/trainer.h"

using namespace glassbox;

int main() {
  // data
  data::Dataset dataset = data::load_idx_dataset("mnist", data::Split::train);
  auto split = data::random_split(dataset, data::default_train_val_sizes(dataset.size()), /*seed=*/0);

  // model
  auto model = models::make_model(models::ModelOptions("linear", {1, 28, 28}, 10));

  // attach callback
  train::Trainer trainer(train::TrainerOptions().max_epochs(2).checkpoint_dir("runs/seed_mnist/checkpoints"));
  trainer.add_logger(std::make_shared<train::TensorBoardLogger>("runs/seed_mnist"));  // figures go there too
  trainer.add_callback(std::make_shared<callbacks::ConfusedLogitCallback>(callbacks::ConfusedLogitOptions(1)));

  // train!
  const train::FitResult result = trainer.fit(*model, models::InputSpec(), split[0], split[1]);
  std::printf("val_acc %.4f; tensorboard --logdir runs/seed_mnist\n", result.val_acc);
}
