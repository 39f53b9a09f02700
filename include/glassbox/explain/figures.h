// The pictures glassbox draws from a model's gradients: the seed's 2x3 confusion figure (corrected),
// attribution grids, morph animations and the confused-pairs matrix. The data are computed first
// (tensors, on the thread that owns the model) and drawn later (anywhere: a logging thread).
#pragma once

#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

#include "glassbox/data/dataset.h"
#include "glassbox/explain/attribution-display.h"
#include "glassbox/explain/gradients.h"
#include "glassbox/explain/morph.h"
#include "glassbox/models/classifier.h"
#include "glassbox/models/input-spec.h"
#include "glassbox/models/model.h"
#include "glassbox/render/image.h"

namespace glassbox::explain {

// A class's display name: names[c] when there is one, else the index.
std::string class_name(const std::vector<std::string>& names, int64_t c);

// A [C, H, W] (or [H, W]) tensor as a float plane on the CPU.
render::Plane to_plane(const at::Tensor& image);
// Gradients for display: one signed channel (the sum over channels).
render::Plane signed_plane(const at::Tensor& gradient);

// Everything the corrected 2x3 figure shows for one sample.
struct ConfusionFigureData {
  at::Tensor x;                // [C, H, W] pixels for display (unnormalised), CPU
  at::Tensor grad_a, grad_b;   // [C, H, W] d score_a / dx, d score_b / dx, CPU
  at::Tensor proj_a, proj_b;   // [C, H, W] x + k * grad, clamped, display pixels, CPU
  int64_t label = -1;          // -1: unknown
  int64_t class_a = 0, class_b = 0;
  double prob_a = 0, prob_b = 0;
  int64_t pred_a = 0, pred_b = 0;       // what the model predicts for proj_a, proj_b
  double pred_a_prob = 0, pred_b_prob = 0;
  double k = 3;
  bool vanished = false;       // a gradient is all zero: nothing to draw
  std::vector<std::string> class_names;
  // Optional: a CAM for each class over the input ([1, H, W], CPU), drawn as a fourth column.
  at::Tensor cam_a, cam_b;
  std::string cam_method;
};

// Computes the figures' data for a batch: x [B, C, H, W] in the model's input space, one (a, b) pair
// per sample. Two backward passes in all (one per class column), never touching parameter gradients.
// `spec`: how the inputs are shown as pixels (and projections clamped there), and the class names.
std::vector<ConfusionFigureData> confusion_figure_data(models::Classifier& model, const models::InputSpec& spec,
                                                       const at::Tensor& x, const at::Tensor& labels,
                                                       const at::Tensor& class_a, const at::Tensor& class_b, double k,
                                                       Score score = Score::logit, bool skip_vanished = false);

// Row 1: the input (true label, the two classes and their probabilities), d a/dx, d b/dx.
// Row 2: d a/dx - d b/dx (what separates them), x + k d a/dx and x + k d b/dx, each titled with
// what the model now predicts. Gradients on a diverging map centred on 0. With CAMs, a fourth column
// shows each class's CAM over the input. Returns PNG bytes.
std::string render_confusion_figure(const ConfusionFigureData& data, int panel_size = 220);

// Everything the 1 x 3 explanation figure shows for one sample.
struct AttributionFigureData {
  at::Tensor x;            // [C, H, W] display pixels in [0, 1] (unnormalised), CPU: RGB is shown in colour
  at::Tensor attribution;  // [C, H, W], or [1, H, W] for a layer's map upsampled to the input, CPU
  std::string method;      // its name, for the title
  int64_t label = -1;      // the true class; -1 when unknown (an image file)
  int64_t target = 0;      // the class explained
  double target_probability = 0;
  int64_t predicted = 0;   // what the model sees
  double predicted_probability = 0;
  std::vector<std::string> class_names;
};

// The figures' data for a batch explained through `model`: x [B, C, H, W] its inputs, `attributions`
// any method's (input-shaped, a CAM, or layer-shaped: made displayable over the input), `targets` [B] the
// classes explained, `labels` the true classes (empty or -1: unknown). One forward pass for the
// probabilities; pixels shown as the model's input specification says, with its class names.
std::vector<AttributionFigureData> attribution_figure_data(const models::Model& model, const at::Tensor& x,
                                                           const at::Tensor& attributions, const at::Tensor& targets,
                                                           const std::string& method,
                                                           const std::vector<int64_t>& labels = {});

struct AttributionFigureOptions {
  GLASSBOX_ARG(AttributionSign, sign) = AttributionSign::automatic;  // see attribution-display.h
  GLASSBOX_ARG(double, outlier_percent) = 2.0;  // Captum's outlier_perc: the top values that saturate
  GLASSBOX_ARG(double, alpha) = 0.5;            // the heat map's weight when blended over the image
  // true: the weight grows with the value (attributions show where they are); false: one weight
  // everywhere (a CAM over a photograph, as pytorch-grad-cam's show_cam_on_image).
  GLASSBOX_ARG(bool, fade) = true;
  GLASSBOX_ARG(int, panel_size) = 260;
};

// The input (in colour when RGB), the attribution reduced to one map (Captum's rule: channels summed,
// the sign chosen, the top outlier_percent saturated), and that map blended over the input.
std::string render_attribution_figure(const AttributionFigureData& data,
                                      const AttributionFigureOptions& options = AttributionFigureOptions());

// A grid: the probes' images on top, their attributions (diverging, or viridis when non-negative)
// below, titled with `titles` (one per probe); with `over`, each map blended over its image (a CAM).
// attributions: [N, C, H, W] or [N, 1, H, W] over the images. Returns PNG bytes.
std::string render_attribution_grid(const at::Tensor& images, const at::Tensor& attributions,
                                    const std::vector<std::string>& titles, const std::string& title = "",
                                    int panel_size = 160, bool over = false);

// The morph trajectory as an animated GIF: each frame the image and its target probability.
std::string render_morph_gif(const MorphTrajectory& trajectory, int64_t target,
                             const std::vector<std::string>& class_names = {}, int panel_size = 240);
// Its first and last frames and the change between them, as a PNG.
std::string render_morph_summary(const MorphTrajectory& trajectory, int64_t target,
                                 const std::vector<std::string>& class_names = {}, int panel_size = 220);

// The confused-pairs matrix [K, K] as a picture.
std::string render_pair_matrix(const at::Tensor& counts, const std::vector<std::string>& class_names = {},
                               int panel_size = 520);

}  // namespace glassbox::explain
