// Input x Gradient (Captum's InputXGradient): each input value times the target score's gradient.
#include "glassbox/explain/methods.h"

namespace glassbox::explain {

at::Tensor input_x_gradient(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets, Score score) {
  return input_gradients(model, x, targets, score).gradients * x;
}

namespace {

class InputXGradientMethod final : public AttributionMethod {
 public:
  const char* name() const override { return "ixg"; }
  const char* help() const override { return "Input x Gradient: x * d score / dx (Captum's InputXGradient)"; }
  std::vector<std::string> options() const override { return {"score"}; }
  at::Tensor attribute(const AttributionRequest& r) const override {
    return input_x_gradient(r.model, r.x, r.targets, r.options.score());
  }
};

}  // namespace

const AttributionMethod& input_x_gradient_method() {
  static const InputXGradientMethod method;
  return method;
}

}  // namespace glassbox::explain
