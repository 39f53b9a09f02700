// GLASSBOX_ARG declares an option with a chained setter and a getter, the way LibTorch's TORCH_ARG does
// (`TrainerOptions().max_epochs(2).batch_size(64)`), without pulling libtorch into light headers. As
// TORCH_ARG, a non-const object also hands out the option itself, so that a parser can bind to it.
#pragma once

#include <utility>

#define GLASSBOX_ARG(T, name)                                         \
 public:                                                              \
  auto name(const T& new_value)->decltype(*this) {                    \
    this->name##_ = new_value;                                        \
    return *this;                                                     \
  }                                                                   \
  const T& name() const noexcept { return this->name##_; }           \
  T& name() noexcept { return this->name##_; }                       \
                                                                      \
 private:                                                             \
  T name##_
