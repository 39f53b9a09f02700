// Optimizer state read from bytes (a checkpoint, rank 0's broadcast) lies on the CPU; the optimizer's
// step needs it beside its parameters.
#pragma once

#include <c10/core/Device.h>

namespace torch::optim {
class Optimizer;
}

namespace glassbox::train {

// Moves the per-parameter state of Adam and SGD (moments, momentum buffers) to `device`.
void move_optimizer_state(torch::optim::Optimizer& optimizer, c10::Device device);

}  // namespace glassbox::train
