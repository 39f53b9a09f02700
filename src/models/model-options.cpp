#include "glassbox/models/model-options.h"

#include <algorithm>

#include "glassbox/util/error.h"

namespace glassbox::models {
namespace {

constexpr int64_t kMaxParameters = int64_t(1) << 31;
constexpr int64_t kMaxWidth = int64_t(1) << 16;

// a * b + c, saturated at kMaxParameters + 1 so that a hostile size cannot overflow.
int64_t mul_add(int64_t a, int64_t b, int64_t c) {
  const __int128 v = static_cast<__int128>(a) * b + c;
  return v > kMaxParameters ? kMaxParameters + 1 : static_cast<int64_t>(v);
}

}  // namespace

const std::vector<ArchitectureInfo>& architectures() {
  // 0.005 is the seed's rate for its linear model; mlp and cnn collapse with it, and take Adam's own 0.001.
  static const std::vector<ArchitectureInfo> all = {
      {"linear", "the seed's LitClassifier: Linear(C*H*W, K) with a ReLU on its output", 0.005},
      {"logreg", "Linear(C*H*W, K): multinomial logistic regression", 0.005},
      {"mlp", "Linear(C*H*W, hidden) - ReLU - Linear(hidden, K)", 0.001},
      {"cnn", "two conv(3x3)-ReLU-maxpool(2) blocks (conv_channels, twice as many), Linear(hidden), Linear(K)", 0.001},
  };
  return all;
}

std::vector<std::string> architecture_names() {
  std::vector<std::string> names;
  for (const ArchitectureInfo& a : architectures()) names.push_back(a.name);
  return names;
}

const ArchitectureInfo& find_architecture(const std::string& name) {
  for (const ArchitectureInfo& a : architectures())
    if (name == a.name) return a;
  std::string names;
  for (const ArchitectureInfo& a : architectures()) names += (names.empty() ? "" : ", ") + std::string(a.name);
  throw Error::about("architecture", name, "unknown, expected one of " + names);
}

void validate_input_shape(const InputShape& s, const std::string& what) {
  for (int64_t side : {s.channels, s.height, s.width})
    GLASSBOX_CHECK(side >= 1 && side <= kMaxInputSide, what, ": input shape ", s.channels, "x", s.height, "x", s.width,
                   ", expected C x H x W each in 1..", kMaxInputSide);
  GLASSBOX_CHECK(static_cast<__int128>(s.channels) * s.height * s.width <= kMaxInputValues, what, ": input shape ",
                 s.channels, "x", s.height, "x", s.width, " has more than ", kMaxInputValues, " values");
}

void validate_model_options(const ModelOptions& o, const std::string& what) {
  const std::string& arch = o.architecture();
  try {
    find_architecture(arch);
  } catch (Error& e) {
    throw e.add_context(what);
  }
  validate_input_shape(o.shape(), what);
  GLASSBOX_CHECK(o.num_classes() >= 2 && o.num_classes() <= kMaxClasses, what, ": num_classes ", o.num_classes(),
                 ", expected 2..", kMaxClasses);
  GLASSBOX_CHECK(o.hidden() >= 1 && o.hidden() <= kMaxWidth, what, ": hidden ", o.hidden(), ", expected 1..", kMaxWidth);
  GLASSBOX_CHECK(o.conv_channels() >= 1 && o.conv_channels() <= kMaxWidth, what, ": conv_channels ", o.conv_channels(),
                 ", expected 1..", kMaxWidth);
  if (arch == "cnn")
    GLASSBOX_CHECK(o.shape().height >= 4 && o.shape().width >= 4, what, ": input ", o.shape().height, "x",
                   o.shape().width, " is too small for the cnn's two 2x2 poolings, expected at least 4x4");
  GLASSBOX_CHECK(parameter_count(o) <= kMaxParameters, what, ": a ", arch, " for ", o.shape().channels, "x",
                 o.shape().height, "x", o.shape().width, " inputs and ", o.num_classes(), " classes has more than ",
                 kMaxParameters, " parameters");
}

int64_t parameter_count(const ModelOptions& o) {
  const InputShape& s = o.shape();
  const int64_t in = s.numel(), k = o.num_classes(), h = o.hidden(), w = o.conv_channels();
  const std::string& arch = o.architecture();
  if (arch == "linear" || arch == "logreg") return mul_add(in, k, k);
  if (arch == "mlp") return mul_add(h, k, k) + mul_add(in, h, h);
  // cnn: conv1 (C -> w, 3x3), conv2 (w -> 2w, 3x3), fc1 (2w * H/4 * W/4 -> h), fc2 (h -> K)
  const int64_t conv = mul_add(s.channels * 9, w, w) + mul_add(w * 9, 2 * w, 2 * w);
  const int64_t flat = mul_add(2 * w, (s.height / 4) * (s.width / 4), 0);
  return conv + mul_add(flat, h, h) + mul_add(h, k, k);
}

double default_learning_rate(const std::string& architecture) {
  return find_architecture(architecture).default_learning_rate;
}

}  // namespace glassbox::models
