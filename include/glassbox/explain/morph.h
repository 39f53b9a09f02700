// Morphing: change an input, step by step along the gradient of a class's score, until the model
// sees that class ("over and over again to eventually morph the input into the prediction we are
// hoping for", as the seed's article puts it).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

#include "glassbox/data/dataset.h"
#include "glassbox/explain/gradients.h"
#include "glassbox/models/classifier.h"
#include "glassbox/models/input-spec.h"
#include "glassbox/util/arg.h"

namespace glassbox::explain {

// How a morph step and its budget are measured.
enum class MorphNorm { l2, linf };
MorphNorm parse_morph_norm(const std::string& name);  // "l2" | "linf"
std::vector<std::string> morph_norm_names();  // every name the parser takes, in order

// What moves the input (the attacks as torchattacks and Captum define them, used to find the least change
// that makes the model see another class):
enum class MorphEngine {
  gradient,  // steps along the target score's normalised gradient (l2: RMS step_size per pixel), until stop_probability
  fgsm,      // one step of eps along the sign of the cross-entropy's gradient (Goodfellow et al.)
  pgd,       // projected gradient descent on the cross-entropy (Madry et al.): random start in the eps ball,
             // steps of step_size (linf: its sign; l2: the gradient over its L2 norm), projected to the ball
};
MorphEngine parse_morph_engine(const std::string& name);  // "gradient" | "fgsm" | "pgd"
std::vector<std::string> morph_engine_names();

struct MorphOptions {
  explicit MorphOptions(int64_t target) : target_(target) {}
  // The class to reach (targeted), or the class to leave (untargeted: the input's label, as torchattacks).
  GLASSBOX_ARG(int64_t, target);
  GLASSBOX_ARG(bool, targeted) = true;
  GLASSBOX_ARG(MorphEngine, engine) = MorphEngine::gradient;
  GLASSBOX_ARG(int64_t, steps) = 100;
  GLASSBOX_ARG(double, step_size) = 0.02;     // in [0, 1] pixel units per step
  GLASSBOX_ARG(MorphNorm, norm) = MorphNorm::l2;  // l2: step along g / ||g||_2 * sqrt(numel); linf: sign(g)
  GLASSBOX_ARG(double, eps) = 0;              // budget around the start in the same norm; 0 = none (fgsm, pgd: > 0)
  GLASSBOX_ARG(bool, random_start) = true;    // pgd: start at a random point of the eps ball
  GLASSBOX_ARG(uint64_t, seed) = 0;           // pgd's random start
  // Stop once the target has this probability (untargeted: once the target's is below 1 - this and it
  // is no longer predicted). fgsm makes its one step regardless.
  GLASSBOX_ARG(double, stop_probability) = 0.99;
  GLASSBOX_ARG(Score, score) = Score::logit;
  GLASSBOX_ARG(double, pixel_min) = 0.0;      // valid range in unnormalised (display) space
  GLASSBOX_ARG(double, pixel_max) = 1.0;
};

struct MorphTrajectory {
  std::vector<at::Tensor> frames;          // unnormalised [C, H, W] images, frames[0] is the start
  std::vector<double> target_probability;  // per frame
  std::vector<int64_t> predicted;          // per frame
  std::vector<at::Tensor> probabilities;   // per frame, [K]
  bool reached = false;                    // the target was predicted with the asked probability (untargeted: left)
};

// Morphs one sample x [1, C, H, W] (in the model's input space, i.e. normalised if the model is)
// toward options.target(). Each step: x <- project(clamp(x + step_size * normalised gradient)). Steps,
// clamping and the budget act on pixels: `spec` says how inputs and pixels relate.
MorphTrajectory morph(models::Classifier& model, const models::InputSpec& spec, const at::Tensor& x,
                      const MorphOptions& options);

// The seed's one-step projection, corrected: x + k * d score_t / dx, clamped to the valid range
// (in unnormalised space when `normalization` is given). x: [B, C, H, W]; gradients like x.
at::Tensor project(const at::Tensor& x, const at::Tensor& gradients, double k,
                   const data::Normalization& normalization = {}, double pixel_min = 0.0, double pixel_max = 1.0);

}  // namespace glassbox::explain
