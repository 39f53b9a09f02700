// Saliency (Captum's Saliency): how much each input value moves the target score, |d score / dx|.
#include "glassbox/explain/methods.h"

namespace glassbox::explain {

at::Tensor saliency(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets, bool abs, Score score) {
  const at::Tensor g = input_gradients(model, x, targets, score).gradients;
  return abs ? g.abs() : g;
}

namespace {

class SaliencyMethod final : public AttributionMethod {
 public:
  const char* name() const override { return "saliency"; }
  const char* help() const override { return "Saliency: |d score / dx| (Captum's Saliency)"; }
  std::vector<std::string> options() const override { return {"score"}; }
  at::Tensor attribute(const AttributionRequest& r) const override {
    return saliency(r.model, r.x, r.targets, true, r.options.score());
  }
};

}  // namespace

const AttributionMethod& saliency_method() {
  static const SaliencyMethod method;
  return method;
}

}  // namespace glassbox::explain
