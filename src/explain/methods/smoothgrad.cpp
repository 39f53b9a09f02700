// SmoothGrad, SmoothGrad^2 and VarGrad (Captum's NoiseTunnel over the signed gradient): the gradient
// averaged over noisy copies of the input.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include "glassbox/explain/methods.h"
#include "glassbox/util/error.h"
#include "glassbox/util/enum-names.h"

namespace glassbox::explain {

namespace {
const char* const kTypeNames[] = {"smoothgrad", "smoothgrad_sq", "vargrad"};  // NoiseTunnelType's order
}  // namespace

std::vector<std::string> noise_tunnel_type_names() { return enum_names(kTypeNames); }
NoiseTunnelType parse_noise_tunnel_type(const std::string& name) {
  return enum_from_name<NoiseTunnelType>(kTypeNames, name, "nt_type");
}
const char* noise_tunnel_type_name(NoiseTunnelType type) { return enum_name(kTypeNames, type); }

at::Tensor noise_tunnel(const std::function<at::Tensor(const at::Tensor&)>& method, const at::Tensor& x,
                        const NoiseTunnelOptions& o) {
  GLASSBOX_CHECK(o.nt_samples() >= 1, "nt_samples ", o.nt_samples(), ": expected at least 1");
  GLASSBOX_CHECK(o.stdevs() >= 0, "stdevs ", o.stdevs(), ": expected >= 0");
  const NoiseTunnelType type = o.nt_type();
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(o.seed());
  at::Tensor sum = at::zeros_like(x), sum_sq = at::zeros_like(x);
  for (int64_t i = 0; i < o.nt_samples(); ++i) {
    const at::Tensor noise = at::normal(0.0, 1.0, x.sizes().slice(1), gen, x.options().device(at::kCPU)).mul_(o.stdevs());
    const at::Tensor a = method(x + noise.to(x.device()).unsqueeze(0));
    sum.add_(a);
    sum_sq.add_(a * a);
  }
  const double n = double(o.nt_samples());
  if (type == NoiseTunnelType::smoothgrad) return sum / n;
  if (type == NoiseTunnelType::smoothgrad_sq) return sum_sq / n;
  const at::Tensor mean = sum / n;
  return sum_sq / n - mean * mean;  // vargrad: the (biased) variance, as Captum
}

namespace {

class SmoothGradMethod final : public AttributionMethod {
 public:
  const char* name() const override { return "smoothgrad"; }
  const char* help() const override {
    return "SmoothGrad (or SmoothGrad^2, VarGrad): the signed gradient over noisy copies (Captum's NoiseTunnel)";
  }
  std::vector<std::string> options() const override {
    return {"score", "noise_tunnel.nt_type", "noise_tunnel.nt_samples", "noise_tunnel.stdevs", "noise_tunnel.seed"};
  }
  at::Tensor attribute(const AttributionRequest& r) const override {
    check_batch(r.model, r.x, r.targets);
    return noise_tunnel([&](const at::Tensor& noisy) { return saliency(r.model, noisy, r.targets, false, r.options.score()); },
                        r.x, r.options.noise_tunnel());
  }
};

}  // namespace

const AttributionMethod& smoothgrad_method() {
  static const SmoothGradMethod method;
  return method;
}

}  // namespace glassbox::explain
