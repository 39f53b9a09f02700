// The forward-only methods against independent truth: on a linear model every one of feature ablation,
// Shapley value sampling and KernelSHAP equals the cells' sums of w * (x - baseline) (the model is
// additive in its features); on a non-linear one, Shapley values computed exactly by enumerating every
// coalition; efficiency (the values add up to F(x) - F(baseline)); RISE with every cell kept is the score.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "glassbox/explain/methods.h"
#include "glassbox/explain/perturbation-methods.h"
#include "glassbox/models/architectures.h"
#include "test-support.h"

using namespace glassbox;
using namespace glassbox::explain;

namespace {

double relative_error(const at::Tensor& got, const at::Tensor& want) {
  return ((got - want).abs().max() / (want.abs().max() + 1e-12)).item<double>();
}

// Each 4x4 cell of an 8x8 image summed: [B, 4].
at::Tensor cell_sums(const at::Tensor& per_pixel) {
  return per_pixel.view({per_pixel.size(0), 2, 4, 2, 4}).sum({2, 4}).flatten(1);
}

at::Tensor score_of(models::Classifier& m, const at::Tensor& x, const at::Tensor& t) {
  return m.forward(x).gather(1, t.view({-1, 1})).squeeze(1).detach();
}

}  // namespace

TEST(PerturbationMethods, OnALinearModelEveryMethodIsTheCellsWeightedDifference) {
  torch::manual_seed(1);
  auto model = models::make_model(models::ModelOptions("logreg", {1, 8, 8}, 3));
  at::Tensor w;
  for (const auto& [name, p] : model->named_parameters())
    if (name == "l1.weight") w = p.detach();
  const at::Tensor x = at::rand({2, 1, 8, 8});
  const at::Tensor t = at::tensor({0, 2}, at::kLong);
  const PerturbationOptions o = PerturbationOptions().feature_size(4).baseline(0.25).n_samples(40).perturbations_per_eval(7);
  const at::Tensor want = cell_sums((w.index_select(0, t).view({2, 1, 8, 8}) * (x - 0.25)).view({2, 8, 8}));
  for (const auto& [name, got] : std::vector<std::pair<std::string, at::Tensor>>{
           {"feature_ablation", feature_ablation(*model, x, t, o)},
           {"shapley_sampling", shapley_value_sampling(*model, x, t, o)},
           {"kernel_shap", kernel_shap(*model, x, t, o)}}) {
    SCOPED_TRACE(name);
    ASSERT_EQ(got.sizes(), x.sizes());
    // Every pixel of a cell holds the cell's value.
    // KernelSHAP's fit reads float scores through weights of 1 and 1e6: 1e-3.
    const double tolerance = name == "kernel_shap" ? 1e-3 : 1e-4;
    const at::Tensor per_cell = got.view({2, 2, 4, 2, 4}).amax({2, 4}).flatten(1);
    EXPECT_LT(relative_error(per_cell, want), tolerance);
    EXPECT_LT(relative_error(got.view({2, 2, 4, 2, 4}).amin({2, 4}).flatten(1), want), tolerance);
  }
}

TEST(PerturbationMethods, ShapleySamplingApproachesTheExactShapleyValuesAndKernelShapAddsUp) {
  torch::manual_seed(2);
  auto model = models::make_model(models::ModelOptions("mlp", {1, 8, 8}, 3).hidden(16));
  const at::Tensor x = at::rand({1, 1, 8, 8}) * 3;
  const at::Tensor t = at::tensor({1}, at::kLong);
  // The exact values: every coalition of the 4 cells, by enumeration, and the Shapley weights.
  auto with = [&](int coalition) {
    at::Tensor m = at::zeros({1, 1, 8, 8});
    for (int f = 0; f < 4; ++f)
      if (coalition >> f & 1) m.narrow(2, (f / 2) * 4, 4).narrow(3, (f % 2) * 4, 4).fill_(1);
    return score_of(*model, x * m, t).item<double>();
  };
  const double factorial[] = {1, 1, 2, 6, 24};
  std::vector<double> exact(4, 0);
  for (int f = 0; f < 4; ++f)
    for (int c = 0; c < 16; ++c) {
      if (c >> f & 1) continue;
      const int size = __builtin_popcount(c);
      exact[size_t(f)] += factorial[size] * factorial[3 - size] / factorial[4] * (with(c | 1 << f) - with(c));
    }
  const at::Tensor want = at::tensor(exact, at::kDouble);
  const PerturbationOptions o = PerturbationOptions().feature_size(4).n_samples(3000).seed(3);
  const at::Tensor sampled = shapley_value_sampling(*model, x, t, o).view({2, 4, 2, 4}).amax({1, 3}).flatten().to(at::kDouble);
  EXPECT_LT(relative_error(sampled, want), 0.05) << sampled << want;
  // Efficiency: the values add up to F(x) - F(baseline), for the sampled and the fitted ones.
  const double total = with(15) - with(0);
  EXPECT_NEAR(sampled.sum().item<double>(), total, 1e-4 * (1 + std::abs(total)));
  const at::Tensor fitted = kernel_shap(*model, x, t, PerturbationOptions().feature_size(4).n_samples(200))
                                .view({2, 4, 2, 4}).amax({1, 3}).flatten().to(at::kDouble);
  EXPECT_NEAR(fitted.sum().item<double>(), total, 1e-3 * (1 + std::abs(total)));
  EXPECT_LT(relative_error(fitted, want), 0.1) << fitted << want;
}

TEST(PerturbationMethods, RiseKeepingEveryCellIsTheScoreAndASampleIgnoresItsBatch) {
  torch::manual_seed(4);
  auto model = models::make_model(models::ModelOptions("cnn", {1, 12, 12}, 3).conv_channels(4).hidden(8));
  const at::Tensor x = at::rand({3, 1, 12, 12});
  const at::Tensor t = at::tensor({0, 1, 2}, at::kLong);
  const at::Tensor all = rise(*model, x, t, PerturbationOptions().feature_size(4).rise_masks(5).rise_probability(1.0));
  EXPECT_LT(relative_error(all.amax({1, 2, 3}), score_of(*model, x, t)), 1e-5);
  EXPECT_LT(relative_error(all.amin({1, 2, 3}), score_of(*model, x, t)), 1e-5);
  const PerturbationOptions o = PerturbationOptions().feature_size(4).rise_masks(50).perturbations_per_eval(8).seed(9);
  const at::Tensor batch = rise(*model, x, t, o);
  const at::Tensor alone = rise(*model, x.narrow(0, 2, 1), t.narrow(0, 2, 1), PerturbationOptions(o).perturbations_per_eval(50));
  EXPECT_LT(relative_error(alone[0], batch[2]), 1e-5);
  for (const char* method : {"feature_ablation", "shapley_sampling", "kernel_shap", "lime", "rise"}) {
    SCOPED_TRACE(method);
    AttributeOptions options;
    options.perturbation().feature_size(4).n_samples(5).rise_masks(20);
    const at::Tensor a = attribute(method, *model, x, t, options);
    EXPECT_EQ(a.sizes(), x.sizes());
    EXPECT_TRUE(at::isfinite(a).all().item<bool>());
    const at::Tensor one = attribute(method, *model, x.narrow(0, 1, 1), t.narrow(0, 1, 1), options);
    EXPECT_LT(relative_error(one[0], a[1]), 1e-4);
  }
  EXPECT_THROW(attribute("kernel_shap", *model, x, t, AttributeOptions().perturbation(PerturbationOptions().feature_size(12))), Error);
}
