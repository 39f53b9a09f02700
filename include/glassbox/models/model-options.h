// What a built-in model is: its architecture, input shape and class count, and the widths that size
// it. Free of libtorch, so that a checkpoint's metadata can be checked before anything is allocated.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "glassbox/util/arg.h"

namespace glassbox::models {

// What a model takes: C x H x W inputs.
struct InputShape {
  int64_t channels = 1;
  int64_t height = 28;
  int64_t width = 28;
  // Callers check the sizes first (validate_input_shape): a product of unchecked sizes may overflow.
  int64_t numel() const { return channels * height * width; }
};

// Each side of an input at most this (65,536) and C x H x W at most 2^31 values: beyond that a
// declared shape is a damaged or hostile file, not a model glassbox can run.
constexpr int64_t kMaxInputSide = int64_t(1) << 16;
constexpr int64_t kMaxInputValues = int64_t(1) << 31;
constexpr int64_t kMaxClasses = 100000;

// Throws glassbox::Error naming `what` (a flag or a file) unless every size is positive and in bounds.
void validate_input_shape(const InputShape& shape, const std::string& what);

// `linear`  the seed's LitClassifier: Linear(C*H*W, K) with ReLU applied to its output. The ReLU on the
//           logits is kept on purpose: it is what the seed trains, and why many of its logits tie at 0.
// `logreg`  the same without the ReLU (multinomial logistic regression).
// `mlp`     Linear(C*H*W, hidden) - ReLU - Linear(hidden, K).
// `cnn`     two conv(3x3)-ReLU-maxpool(2) blocks, then Linear - ReLU - Linear.
struct ModelOptions {
  ModelOptions(std::string architecture, InputShape shape, int64_t num_classes)
      : architecture_(std::move(architecture)), shape_(shape), num_classes_(num_classes) {}
  GLASSBOX_ARG(std::string, architecture);
  GLASSBOX_ARG(InputShape, shape);
  GLASSBOX_ARG(int64_t, num_classes);
  GLASSBOX_ARG(int64_t, hidden) = 256;        // mlp hidden width and cnn head width
  GLASSBOX_ARG(int64_t, conv_channels) = 32;  // cnn: first block's channels (the second has twice as many)
};

// What glassbox knows of each built-in architecture, in one table (model-options.cpp); architectures.cpp
// builds them. Adding one is its row there and its module there.
struct ArchitectureInfo {
  const char* name;              // what ModelOptions::architecture and --model take
  const char* help;              // one line
  double default_learning_rate;  // what training uses with Adam when none is given
};
const std::vector<ArchitectureInfo>& architectures();
// The row called `name`; throws glassbox::Error::about("architecture", name, ...) listing the others.
const ArchitectureInfo& find_architecture(const std::string& name);
std::vector<std::string> architecture_names();

// Throws glassbox::Error naming the field (architecture, input_shape, num_classes, hidden,
// conv_channels), prefixed with `what`, when the options cannot describe a model: unknown
// architecture, sizes out of bounds, or more than 2^31 parameters.
void validate_model_options(const ModelOptions& options, const std::string& what = "model");

// The number of parameters (weights and biases) the model has; options already validated.
int64_t parameter_count(const ModelOptions& options);

// The learning rate `glassbox train` uses with Adam when none is given: the seed's 0.005 for its
// linear models; 0.001 (Adam's own default) for mlp and cnn, which 0.005 can make collapse.
double default_learning_rate(const std::string& architecture);

}  // namespace glassbox::models
