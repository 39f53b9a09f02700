// The registered attribution methods: one line each. A new method is one file in this folder defining
// `const AttributionMethod& NAME();` and its line here.
#include "glassbox/explain/methods.h"
#include "glassbox/util/error.h"

#define GLASSBOX_ATTRIBUTION_METHODS(X) \
  X(saliency_method)                    \
  X(input_x_gradient_method)            \
  X(integrated_gradients_method)        \
  X(smoothgrad_method)                  \
  X(occlusion_method)                   \
  X(gradcam_method)                     \
  X(gradcam_plus_plus_method)           \
  X(hirescam_method)                    \
  X(eigencam_method)                    \
  X(scorecam_method)                    \
  X(xgradcam_method)                    \
  X(layercam_method)                    \
  X(ablation_cam_method)                \
  X(reciprocam_method)                  \
  X(attention_rollout_method)           \
  X(gradient_rollout_method)            \
  X(layer_gradient_x_activation_method) \
  X(layer_integrated_gradients_method)   \
  X(guided_backprop_method)              \
  X(deconvnet_method)                    \
  X(guided_gradcam_method)               \
  X(deeplift_method)                     \
  X(deeplift_shap_method)                \
  X(gradient_shap_method)                \
  X(lrp_method)                          \
  X(feature_ablation_method)             \
  X(feature_permutation_method)          \
  X(shapley_sampling_method)             \
  X(kernel_shap_method)                  \
  X(lime_method)                         \
  X(rise_method)

namespace glassbox::explain {

#define GLASSBOX_DECLARE(f) const AttributionMethod& f();
GLASSBOX_ATTRIBUTION_METHODS(GLASSBOX_DECLARE)
#undef GLASSBOX_DECLARE

const std::vector<const AttributionMethod*>& attribution_methods() {
#define GLASSBOX_ENTRY(f) &f(),
  static const std::vector<const AttributionMethod*> all = {GLASSBOX_ATTRIBUTION_METHODS(GLASSBOX_ENTRY)};
#undef GLASSBOX_ENTRY
  return all;
}

std::string attribution_method_names() {
  std::string out;
  for (const AttributionMethod* m : attribution_methods()) out += (out.empty() ? "" : ", ") + std::string(m->name());
  return out;
}

const AttributionMethod& find_attribution_method(const std::string& name) {
  for (const AttributionMethod* m : attribution_methods())
    if (name == m->name()) return *m;
  throw Error::about("method", name, "expected one of " + attribution_method_names());
}

at::Tensor attribute(const std::string& name, models::Classifier& model, const at::Tensor& x, const at::Tensor& targets,
                     const AttributeOptions& options) {
  return find_attribution_method(name).attribute({model, x, targets, options});
}

}  // namespace glassbox::explain
