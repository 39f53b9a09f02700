// The typed layer calls run the registered methods, so that a method has one implementation.
#include "glassbox/explain/cam.h"

#include "glassbox/explain/methods.h"

namespace glassbox::explain {
namespace {

at::Tensor run(const char* name, models::Classifier& model, const at::Tensor& x, const at::Tensor& targets,
               const AttributeOptions& options) {
  return find_attribution_method(name).attribute({model, x, targets, options});
}

}  // namespace

at::Tensor grad_cam(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets, const LayerOptions& options,
                    Score score) {
  return run("gradcam", model, x, targets, AttributeOptions().layer(options).score(score));
}

at::Tensor grad_cam_plus_plus(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets,
                              const LayerOptions& options, Score score) {
  return run("gradcampp", model, x, targets, AttributeOptions().layer(options).score(score));
}

at::Tensor hires_cam(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets, const LayerOptions& options,
                     Score score) {
  return run("hirescam", model, x, targets, AttributeOptions().layer(options).score(score));
}

at::Tensor eigen_cam(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets, const LayerOptions& options) {
  return run("eigencam", model, x, targets, AttributeOptions().layer(options));
}

at::Tensor score_cam(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets, const LayerOptions& options) {
  return run("scorecam", model, x, targets, AttributeOptions().layer(options));
}

at::Tensor xgrad_cam(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets, const LayerOptions& options,
                     Score score) {
  return run("xgradcam", model, x, targets, AttributeOptions().layer(options).score(score));
}

at::Tensor layer_cam(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets, const LayerOptions& options,
                     Score score) {
  return run("layercam", model, x, targets, AttributeOptions().layer(options).score(score));
}

at::Tensor ablation_cam(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets,
                        const LayerOptions& options, Score score) {
  return run("ablationcam", model, x, targets, AttributeOptions().layer(options).score(score));
}

at::Tensor recipro_cam(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets, const LayerOptions& options) {
  return run("reciprocam", model, x, targets, AttributeOptions().layer(options));
}

at::Tensor attention_rollout(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets,
                             const LayerOptions& options) {
  return run("rollout", model, x, targets, AttributeOptions().layer(options));
}

at::Tensor gradient_rollout(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets,
                            const LayerOptions& options, Score score) {
  return run("grad_rollout", model, x, targets, AttributeOptions().layer(options).score(score));
}

at::Tensor layer_gradient_x_activation(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets,
                                       const LayerOptions& options, Score score) {
  return run("layer_gxa", model, x, targets, AttributeOptions().layer(options).score(score));
}

at::Tensor layer_integrated_gradients(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets,
                                      const LayerOptions& options, const IntegratedGradientsOptions& integration) {
  return run("layer_ig", model, x, targets,
             AttributeOptions().layer(options).integrated_gradients(integration).score(integration.score()));
}

}  // namespace glassbox::explain
