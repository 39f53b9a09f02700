// RISE (Petsiuk et al. 2018): N random masks, each a grid of cells kept with probability p, upsampled
// bilinearly to one cell more than the image and shifted by a random fraction of a cell, so that the
// masks are smooth; the saliency of a pixel is the mean of the target scores of the masked inputs,
// weighted by the mask there, divided by p.
#include <ATen/CPUGeneratorImpl.h>

#include "feature-masks.h"

namespace glassbox::explain {

at::Tensor rise(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets, const PerturbationOptions& o,
                Score score) {
  check_batch(model, x, targets);
  GLASSBOX_CHECK(o.rise_masks() >= 1 && o.rise_masks() <= 100000, "rise_masks ", o.rise_masks(), ": expected 1..100000");
  GLASSBOX_CHECK(o.rise_probability() > 0 && o.rise_probability() <= 1, "rise_probability ", o.rise_probability(),
                 ": expected a probability in (0, 1]");
  const FeatureMask grid = feature_grid(x, o.feature_size());
  models::EvalModeGuard eval(model);
  const int64_t B = x.size(0), H = x.size(2), W = x.size(3), N = o.rise_masks(), cell = o.feature_size();
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(o.seed());
  const auto cpu = at::TensorOptions().dtype(at::kFloat);
  const at::Tensor cells = at::rand({N, 1, grid.rows + 1, grid.cols + 1}, gen, cpu).lt(o.rise_probability()).to(at::kFloat);
  const at::Tensor smooth = at::upsample_bilinear2d(cells, {(grid.rows + 1) * cell, (grid.cols + 1) * cell}, false);
  const at::Tensor shifts = at::randint(cell, {N, 2}, gen, at::TensorOptions().dtype(at::kLong));
  std::vector<at::Tensor> crops;
  const auto shift = shifts.accessor<int64_t, 2>();
  for (int64_t n = 0; n < N; ++n) crops.push_back(smooth[n].narrow(1, shift[n][0], H).narrow(2, shift[n][1], W));
  const at::Tensor masks = at::stack(crops).to(x.options());  // [N, 1, H, W]
  const at::Tensor scores = masked_scores(model, x, targets, masks, 0.0, o.perturbations_per_eval(), score);  // [B, N]
  const at::Tensor saliency = scores.matmul(masks.view({N, H * W})) / (double(N) * o.rise_probability());
  return saliency.view({B, 1, H, W}).expand_as(x).contiguous();
}

namespace {

class RiseMethod final : public AttributionMethod {
 public:
  const char* name() const override { return "rise"; }
  const char* help() const override { return "RISE: random smooth masks weighted by the score they leave (Petsiuk et al.)"; }
  std::vector<std::string> options() const override {
    return {"score", "perturbation.feature_size", "perturbation.rise_masks", "perturbation.rise_probability",
            "perturbation.perturbations_per_eval", "perturbation.seed"};
  }
  at::Tensor attribute(const AttributionRequest& r) const override {
    return rise(r.model, r.x, r.targets, r.options.perturbation(), r.options.score());
  }
};

}  // namespace

const AttributionMethod& rise_method() {
  static const RiseMethod method;
  return method;
}

}  // namespace glassbox::explain
