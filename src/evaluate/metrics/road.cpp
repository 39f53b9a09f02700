// ROAD (Rong et al. 2022): remove the most (MoRF) or least (LeRF) relevant pixels and impute them from
// their neighbours, so that the model sees no tell-tale shape of a mask. The imputation is a sparse
// linear system per image; Eigen's sparse Cholesky solves it exactly (what the paper's spsolve does),
// on the CPU. The imputed images then go through the model in batches on its device.
#include <ATen/ATen.h>
#include <Eigen/SparseCholesky>
#include <Eigen/SparseCore>

#include <cmath>

#include "../perturbation.h"
#include "glassbox/evaluate/faithfulness.h"
#include "glassbox/evaluate/metrics.h"
#include "glassbox/util/error.h"

namespace glassbox::evaluate {

namespace {

struct Neighbour {
  int dy, dx;
  double weight;
};
// The paper's weights: 1/6 for the four along the axes, 1/12 for the four diagonals (they sum to 1).
constexpr Neighbour kNeighbours[] = {{1, 1, 1.0 / 12}, {0, 1, 1.0 / 6},   {-1, 1, 1.0 / 12}, {1, -1, 1.0 / 12},
                                     {0, -1, 1.0 / 6}, {-1, -1, 1.0 / 12}, {1, 0, 1.0 / 6},  {-1, 0, 1.0 / 6}};

}  // namespace

at::Tensor noisy_linear_imputation(const at::Tensor& image, const at::Tensor& removed, double noise, at::Generator& generator) {
  GLASSBOX_CHECK(image.dim() == 3 && removed.dim() == 2 && removed.size(0) == image.size(1) && removed.size(1) == image.size(2),
                 "noisy_linear_imputation: image ", image.sizes(), " and mask ", removed.sizes(), ": expected [C, H, W] and [H, W]");
  const int64_t C = image.size(0), H = image.size(1), W = image.size(2);
  const at::Tensor img = image.to(at::kCPU, at::kDouble).contiguous();
  const at::Tensor mask = removed.to(at::kCPU, at::kBool).contiguous();
  const bool* m = mask.data_ptr<bool>();
  const double* v = img.data_ptr<double>();
  std::vector<int64_t> var(static_cast<size_t>(H * W), -1), unknown;
  for (int64_t p = 0; p < H * W; ++p)
    if (m[p]) var[static_cast<size_t>(p)] = static_cast<int64_t>(unknown.size()), unknown.push_back(p);
  const int64_t n = static_cast<int64_t>(unknown.size());
  if (n == 0) return image.clone();
  GLASSBOX_CHECK(n < H * W, "noisy_linear_imputation: every pixel is removed; nothing to impute from");
  // Each removed pixel i: s_i v_i - sum_{removed j} w_ij v_j = sum_{kept j} w_ij v_j, s_i the weight of its
  // neighbours inside the image. The matrix is symmetric (opposite offsets weigh the same) and positive
  // definite while any pixel is kept (every removed region then touches a kept one).
  std::vector<Eigen::Triplet<double>> entries;
  entries.reserve(static_cast<size_t>(n) * 9);
  Eigen::MatrixXd rhs = Eigen::MatrixXd::Zero(n, C);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t y = unknown[static_cast<size_t>(i)] / W, x = unknown[static_cast<size_t>(i)] % W;
    double s = 0;
    for (const Neighbour& nb : kNeighbours) {
      const int64_t yy = y + nb.dy, xx = x + nb.dx;
      if (yy < 0 || xx < 0 || yy >= H || xx >= W) continue;
      s += nb.weight;
      const int64_t q = yy * W + xx, j = var[static_cast<size_t>(q)];
      if (j >= 0)
        entries.emplace_back(i, j, -nb.weight);
      else
        for (int64_t c = 0; c < C; ++c) rhs(i, c) += nb.weight * v[c * H * W + q];
    }
    entries.emplace_back(i, i, s);
  }
  Eigen::SparseMatrix<double> system(n, n);
  system.setFromTriplets(entries.begin(), entries.end());
  Eigen::SimplicialLDLT<Eigen::SparseMatrix<double>> solver(system);
  GLASSBOX_CHECK(solver.info() == Eigen::Success, "noisy_linear_imputation: the system could not be factorised");
  const Eigen::MatrixXd solution = solver.solve(rhs);
  at::Tensor out = img.clone();
  double* o = out.data_ptr<double>();
  const at::Tensor jitter = noise > 0 ? at::randn({C, n}, generator, at::TensorOptions(at::kDouble)) * noise
                                      : at::zeros({C, n}, at::kDouble);
  const double* r = jitter.data_ptr<double>();
  for (int64_t i = 0; i < n; ++i)
    for (int64_t c = 0; c < C; ++c) o[c * H * W + unknown[static_cast<size_t>(i)]] = solution(i, c) + r[c * n + i];
  return out.to(image.device(), image.scalar_type());
}

namespace {

RoadResult road_impl(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets, const at::Tensor& attributions,
                     const RoadOptions& o, int64_t per_eval, int64_t first_sample) {
  check_metric_inputs(model, x, targets, attributions, "road");
  const std::vector<double>& pct = o.percentages();
  GLASSBOX_CHECK_PARAM(!pct.empty(), "percentages", "none", "expected at least one");
  for (double p : pct) GLASSBOX_CHECK_PARAM(std::isfinite(p) && p > 0 && p < 100, "percentages", p, "expected each in (0, 100)");
  const int64_t B = x.size(0), H = x.size(2), W = x.size(3), N = H * W, P = static_cast<int64_t>(pct.size());
  const at::Tensor ranks = pixel_ranks(pixel_relevance(attributions)).to(at::kCPU);
  const at::Tensor host = x.to(at::kCPU);
  // [B, P, 2] images: MoRF then LeRF for each percentage.
  std::vector<at::Tensor> images;
  images.reserve(static_cast<size_t>(B * P * 2));
  for (int64_t b = 0; b < B; ++b) {
    at::Generator g = sample_generator(o.seed(), first_sample + b);
    for (double p : pct) {
      const int64_t count = static_cast<int64_t>(std::llround(p / 100.0 * static_cast<double>(N)));
      images.push_back(noisy_linear_imputation(host[b], ranks[b].lt(count).view({H, W}), o.noise(), g));
      images.push_back(noisy_linear_imputation(host[b], ranks[b].ge(N - count).view({H, W}), o.noise(), g));
    }
  }
  const at::Tensor all = at::stack(images);
  const at::Tensor scores = scores_in_batches(model, B * P * 2, [&](int64_t begin, int64_t end) {
    return all.slice(0, begin, end).to(x.device());
  }, targets.repeat_interleave(P * 2), explain::Score::probability, per_eval, x).to(at::kCPU, at::kDouble).view({B, P, 2});
  RoadResult out;
  out.morf = scores.select(2, 0).contiguous();
  out.lerf = scores.select(2, 1).contiguous();
  out.combined = ((out.lerf - out.morf) / 2).mean(1);
  return out;
}

class RoadMetric final : public Metric {
 public:
  const char* name() const override { return "road"; }
  const char* help() const override {
    return "ROAD: the target's probability with the most (MoRF) and least (LeRF) relevant pixels imputed from their neighbours; "
           "mean (LeRF - MoRF) / 2, pytorch-grad-cam's ROADCombined (higher is better)";
  }
  int better() const override { return 1; }
  MetricResult evaluate(const MetricRequest& r) const override {
    const RoadResult res = road_impl(r.model, r.x, r.targets, r.attributions, r.options.road(),
                                     r.options.perturbations_per_eval(), r.first_sample);
    const std::vector<double>& axis = r.options.road().percentages();
    return {res.combined, {{"MoRF", axis, res.morf}, {"LeRF", axis, res.lerf}}, {}, {}, {}};
  }
};

}  // namespace

RoadResult road(models::Classifier& model, const at::Tensor& x, const at::Tensor& targets, const at::Tensor& attributions,
                const RoadOptions& options, int64_t perturbations_per_eval) {
  return road_impl(model, x, targets, attributions, options, perturbations_per_eval, 0);
}

const Metric& road_metric() {
  static const RoadMetric metric;
  return metric;
}

}  // namespace glassbox::evaluate
