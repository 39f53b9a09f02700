#include "glassbox/explain/layer-attribution.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <ATen/CPUGeneratorImpl.h>

#include <map>
#include <mutex>
#include <set>

#include "glassbox/explain/layer-map.h"
#include "glassbox/util/error.h"

namespace glassbox::explain {

namespace {

// Whether the score of class `top`, for `probe`, depends on more than one position of the layer's map: it
// does not on a vision transformer's last block, whose patch tokens no longer reach the class token.
bool score_depends_on_positions(models::Classifier& model, const at::Tensor& probe, const at::Tensor& top,
                                const std::string& layer, const MapReading& m) {
  try {
    const LayerActivation a = layer_activation(model, probe, top, layer, Score::logit, true);
    const at::Tensor per_position = to_map(a.gradients, m).abs().sum(1).flatten();
    return (per_position > 0).sum().item<int64_t>() >= 2;
  } catch (const Error&) {
    return false;
  }
}

std::string measure_cam_layer(models::Classifier& model, const std::vector<models::LayerInfo>& layers,
                              const models::InputShape& input) {
  std::map<std::string, MapReading> maps;
  for (const models::LayerInfo& l : layers)
    if (l.calls == 1)
      if (const auto m = read_listed_layer_as_map(l.shape, input.height, input.width))
        if (m->height > 1 && m->width > 1) maps.emplace(l.name, *m);
  // A fixed probe with pixel-like values: the measurement does not depend on the caller's data.
  const at::Tensor probe = at::rand({1, input.channels, input.height, input.width},
                                    at::make_generator<at::CPUGeneratorImpl>(0)).to(models::device_of(model));
  at::Tensor top;
  {
    models::EvalModeGuard eval(model);  // a model mid-training: no batch statistics touched
    torch::autograd::AutoGradMode no_grad(false);
    top = model.forward(probe).argmax(1);
  }
  // Whether `child` is the last layer its parent runs: nothing listed after it belongs to the parent but
  // to the child's own subtree (layers are listed parent first, in the order forward runs them).
  const auto runs_last = [&](const std::string& child, const std::string& parent) {
    bool after = false;
    for (const models::LayerInfo& l : layers) {
      if (l.name == child) after = true;
      else if (after && l.name.rfind(parent + ".", 0) == 0 && l.name.rfind(child + ".", 0) != 0) return false;
    }
    return true;
  };
  std::set<std::string> tried;
  for (auto it = layers.rbegin(); it != layers.rend(); ++it) {
    if (!maps.count(it->name)) continue;
    // The last layer found is often the innermost module of the block that makes the output
    // ("layer4.1.bn2", Inception's "Mixed_7c.branch_pool"): while it is the last its parent runs and the
    // parent gives the same grid, the parent is the one to name ("layer4"; "Mixed_7c", whose 2,048
    // channels hold all four branches, not the last branch's 192).
    std::string found = it->name;
    for (size_t dot; (dot = found.rfind('.')) != std::string::npos;) {
      const std::string parent = found.substr(0, dot);
      const auto p = maps.find(parent);
      if (p == maps.end() || p->second.height != maps.at(found).height || p->second.width != maps.at(found).width ||
          !runs_last(found, parent))
        break;
      found = parent;
    }
    if (!tried.insert(found).second) continue;
    if (score_depends_on_positions(model, probe, top, found, maps.at(found))) return found;
  }
  throw Error::about("layer", "", "the model " + model.name() +
                                      " has no layer that reads as a map (N x C x H x W, N x H x W x C or tokens) whose "
                                      "positions its scores depend on, which CAM methods need (its layers: " +
                                      printable_excerpt(models::layer_names(layers), 300) + ")");
}

}  // namespace

std::string default_cam_layer(models::Classifier& model) {
  const std::vector<models::LayerInfo> layers = model.layers();
  const models::InputShape input = model.input_shape();
  // Measured once per architecture (its name, layers and their shapes): which positions a score depends
  // on is the network's structure, and the CAM methods ask on every call.
  std::string key = model.name() + "|" + std::to_string(input.height) + "x" + std::to_string(input.width);
  for (const models::LayerInfo& l : layers) key += "|" + l.name + ":" + c10::str(l.shape) + ":" + std::to_string(l.calls);
  static std::mutex mutex;
  static std::map<std::string, std::string> measured;
  {
    std::lock_guard<std::mutex> lock(mutex);
    const auto it = measured.find(key);
    if (it != measured.end()) return it->second;
  }
  const std::string layer = measure_cam_layer(model, layers, input);
  std::lock_guard<std::mutex> lock(mutex);
  measured.emplace(key, layer);
  return layer;
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
