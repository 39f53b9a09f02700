// The layer methods as typed calls: Grad-CAM and its relatives, and Captum's layer attributions. Each
// runs the same registered method that attribute("gradcam", ...) reaches by name (methods.h), so the
// two ways give the same maps. x: [B, C, H, W] in the model's input space; targets: [B] int64. CAMs come
// back [B, 1, H, W] over the input (LayerOptions::upsample) or at the layer's resolution; Captum's layer
// methods come back shaped like the layer's activation. An empty LayerOptions::layer means the layer
// default_cam_layer measures (layer-attribution.h): the last that reads as a map and whose positions the
// score depends on.
#pragma once

#include <ATen/core/Tensor.h>

#include "glassbox/explain/attribution.h"
#include "glassbox/models/classifier.h"

namespace glassbox::explain {

// Grad-CAM (Selvaraju et al.; Captum's LayerGradCam): channels weighted by their mean gradient.
at::Tensor grad_cam(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets,
                    const LayerOptions& options = LayerOptions(), Score score = Score::logit);
// Grad-CAM++ (Chattopadhay et al., as pytorch-grad-cam's GradCAMPlusPlus).
at::Tensor grad_cam_plus_plus(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets,
                              const LayerOptions& options = LayerOptions(), Score score = Score::logit);
// HiResCAM (Draelos and Carin): the gradient times the activation, element by element, summed over channels.
at::Tensor hires_cam(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets,
                     const LayerOptions& options = LayerOptions(), Score score = Score::logit);
// EigenCAM (Muhammad and Yeasin): the activation's first principal component; gradient-free and
// class-agnostic (targets unused but checked).
at::Tensor eigen_cam(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets,
                     const LayerOptions& options = LayerOptions());
// Score-CAM (Wang et al.): each channel, upsampled and normalised, masks the input; weighted by the
// softmax score it then gets.
at::Tensor score_cam(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets,
                     const LayerOptions& options = LayerOptions());
// XGrad-CAM (Fu et al.; pytorch-grad-cam's XGradCAM): channels weighted by the activation-weighted gradient.
at::Tensor xgrad_cam(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets,
                     const LayerOptions& options = LayerOptions(), Score score = Score::logit);
// LayerCAM (Jiang et al.): each position weighted by its positive gradient.
at::Tensor layer_cam(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets,
                     const LayerOptions& options = LayerOptions(), Score score = Score::logit);
// Ablation-CAM (Desai and Ramaswamy): channels weighted by the share of the score lost when each is zeroed.
at::Tensor ablation_cam(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets,
                        const LayerOptions& options = LayerOptions(), Score score = Score::logit);
// ReciproCAM (Byun and Lee; ViT-ReciproCAM on token layers): the target's probability with the layer
// masked by a 3 x 3 Gaussian around each position. Gradient-free.
at::Tensor recipro_cam(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets,
                       const LayerOptions& options = LayerOptions());
// Attention rollout (Abnar and Zuidema) of a transformer's attention modules, and its gradient-weighted
// form (Chefer et al.), as maps over the input.
at::Tensor attention_rollout(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets,
                             const LayerOptions& options = LayerOptions());
at::Tensor gradient_rollout(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets,
                            const LayerOptions& options = LayerOptions(), Score score = Score::logit);
// Captum's LayerGradientXActivation: the activation times the gradient there.
at::Tensor layer_gradient_x_activation(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets,
                                       const LayerOptions& options = LayerOptions(), Score score = Score::logit);
// Captum's LayerIntegratedGradients: the layer's activation moved from its value for a zero input to its
// value for x, the rest of the network run on each point.
at::Tensor layer_integrated_gradients(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets,
                                      const LayerOptions& options = LayerOptions(),
                                      const IntegratedGradientsOptions& integration = IntegratedGradientsOptions());

}  // namespace glassbox::explain
