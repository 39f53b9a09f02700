#include "optimizer-state.h"

#include <torch/optim/adam.h>
#include <torch/optim/sgd.h>

namespace glassbox::train {
namespace {

at::Tensor moved(const at::Tensor& t, c10::Device device) { return t.defined() ? t.to(device) : t; }

}  // namespace

void move_optimizer_state(torch::optim::Optimizer& optimizer, c10::Device device) {
  for (auto& entry : optimizer.state()) {
    if (auto* adam = dynamic_cast<torch::optim::AdamParamState*>(entry.second.get())) {
      adam->exp_avg(moved(adam->exp_avg(), device));
      adam->exp_avg_sq(moved(adam->exp_avg_sq(), device));
      adam->max_exp_avg_sq(moved(adam->max_exp_avg_sq(), device));
    } else if (auto* sgd = dynamic_cast<torch::optim::SGDParamState*>(entry.second.get())) {
      sgd->momentum_buffer(moved(sgd->momentum_buffer(), device));
    }
  }
}

}  // namespace glassbox::train
