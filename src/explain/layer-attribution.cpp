#include "glassbox/explain/layer-attribution.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/grad_mode.h>

#include "glassbox/util/error.h"

namespace glassbox::explain {

std::string default_cam_layer(models::Classifier& model) {
  const std::vector<models::LayerInfo> layers = model.layers();
  auto candidate = [&](const std::string& name, const std::vector<int64_t>* shape) -> const models::LayerInfo* {
    for (const models::LayerInfo& l : layers)
      if (l.name == name && l.calls == 1 && l.shape.size() == 3 && l.shape[1] > 1 && l.shape[2] > 1 &&
          (shape == nullptr || l.shape == *shape))
        return &l;
    return nullptr;
  };
  std::string found;
  for (const models::LayerInfo& l : layers)
    if (candidate(l.name, nullptr)) found = l.name;
  // Layers are listed parent first: the last one found may be the innermost module of the block that
  // makes the output ("layer4.1.bn2"); the outermost module with the same output is the one to name.
  for (size_t dot; !found.empty() && (dot = found.rfind('.')) != std::string::npos;) {
    const models::LayerInfo* inner = candidate(found, nullptr);
    if (!candidate(found.substr(0, dot), &inner->shape)) break;
    found = found.substr(0, dot);
  }
  GLASSBOX_CHECK_PARAM(!found.empty(), "layer", "", "the model ", model.name(),
                 " has no layer whose output is N x C x H x W with H, W > 1, which CAM methods need (its layers: ",
                 printable_excerpt(models::layer_names(model.layers()), 300), ")");
  return found;
}

std::string resolved_layer(models::Classifier& model, const LayerOptions& o) {
  return o.layer().empty() ? default_cam_layer(model) : o.layer();
}

LayerActivation layer_activation(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets,
                                 const std::string& layer, Score score, bool with_gradients) {
  check_batch(model, x, targets);
  models::EvalModeGuard eval(model);
  torch::autograd::AutoGradMode enable(with_gradients);
  // The input requires grad, so the activation does even in a model whose parameters do not.
  const at::Tensor input = with_gradients ? x.detach().requires_grad_(true) : x;
  const models::LayerForward f = model.forward_with_layer(input, layer);
  LayerActivation out;
  out.logits = f.logits.detach();
  out.activation = f.activation.detach();
  // The model's last layer, when its output has the logits' shape, is the output layer itself.
  const std::vector<models::LayerInfo> layers = model.layers();
  GLASSBOX_CHECK_PARAM(!(f.activation.sizes() == f.logits.sizes() && !layers.empty() && layers.back().name == layer), "layer", layer, "it is the output layer (its output is the logits ",
                 f.activation.sizes(), "): layer attributions need a layer before it");
  if (!with_gradients) return out;
  const at::Tensor scores = target_scores(f.logits, targets, score);
  // Summing is exact: sample i's score depends only on its own activation (eval mode, no batch coupling).
  out.gradients = torch::autograd::grad({scores.sum()}, {f.activation}, {}, /*retain_graph=*/false,
                                        /*create_graph=*/false, /*allow_unused=*/true)[0];
  GLASSBOX_CHECK_PARAM(out.gradients.defined(), "layer", layer, "the class scores do not depend on it (a layer after the logits, or one whose output is unused)");
  return out;
}

at::Tensor finish_cam(at::Tensor cam, const at::Tensor& x, const LayerOptions& o) {
  if (o.relu()) cam = at::relu(cam);
  cam = cam.unsqueeze(1);
  if (!o.upsample()) return cam;
  return at::upsample_bilinear2d(cam, {x.size(2), x.size(3)}, /*align_corners=*/false);
}

}  // namespace glassbox::explain
