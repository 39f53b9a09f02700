// Gradients and attributions against analytic truth: for a linear model saliency is |W_t| and IG is
// (x - baseline) * W_t exactly; IG's completeness on ReLU networks; SmoothGrad with no noise is the
// gradient; per-sample targets equal one sample at a time; parameters' gradients are never touched.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/nn/module.h>

#include <cmath>

#include "glassbox/explain/attribution.h"
#include "glassbox/explain/methods.h"
#include "glassbox/explain/confusion.h"
#include "glassbox/explain/morph.h"
#include "glassbox/models/architectures.h"
#include "glassbox/util/error.h"

using namespace glassbox;
using namespace glassbox::explain;

namespace {

std::unique_ptr<models::ModuleClassifier> logreg(int64_t c = 1, int64_t h = 5, int64_t w = 4, int64_t k = 3) {
  torch::manual_seed(1);
  return models::make_model(models::ModelOptions("logreg", {c, h, w}, k));
}

// W_t reshaped like one input, for each sample's target.
at::Tensor weight_rows(models::ModuleClassifier& m, const at::Tensor& targets, at::IntArrayRef shape) {
  const at::Tensor W = m.parameters()[0].detach();  // [K, C*H*W]
  return W.index_select(0, targets).view(shape);
}

}  // namespace

TEST(Gradients, LinearModelSaliencyIsAbsWeightOfTheTarget) {
  auto m = logreg(2, 3, 4, 5);
  const at::Tensor x = at::rand({4, 2, 3, 4});
  const at::Tensor t = at::tensor({0L, 4L, 2L, 2L});
  const at::Tensor expected = weight_rows(*m, t, x.sizes()).abs();
  EXPECT_TRUE(at::allclose(saliency(*m, x, t), expected, 1e-6, 1e-7));
  EXPECT_TRUE(at::allclose(saliency(*m, x, t, false), weight_rows(*m, t, x.sizes()), 1e-6, 1e-7));
  EXPECT_TRUE(at::allclose(input_x_gradient(*m, x, t), x * weight_rows(*m, t, x.sizes()), 1e-6, 1e-7));
}

TEST(Gradients, ScoresOtherThanTheLogitMatchTheirAnalyticGradients) {
  auto m = logreg();
  const at::Tensor x = at::rand({3, 1, 5, 4});
  const at::Tensor t = at::tensor({1L, 0L, 2L});
  const at::Tensor W = m->parameters()[0].detach();
  const at::Tensor p = at::softmax(m->forward(x).detach(), 1);  // [B, K]
  // d log p_t / dx = W_t - sum_k p_k W_k ; d p_t / dx = p_t (W_t - sum_k p_k W_k)
  const at::Tensor mix = at::matmul(p, W);
  const at::Tensor dlog = (W.index_select(0, t) - mix).view(x.sizes());
  const GradientResult ls = input_gradients(*m, x, t, Score::log_softmax);
  EXPECT_TRUE(at::allclose(ls.gradients, dlog, 1e-5, 1e-6));
  const at::Tensor pt = p.gather(1, t.view({-1, 1})).view({-1, 1, 1, 1});
  EXPECT_TRUE(at::allclose(input_gradients(*m, x, t, Score::probability).gradients, pt * dlog, 1e-5, 1e-6));
}

TEST(IntegratedGradients, ExactForALinearModelWithEveryMethod) {
  auto m = logreg(3, 4, 4, 6);
  const at::Tensor x = at::rand({5, 3, 4, 4});
  const at::Tensor t = at::tensor({0L, 1L, 2L, 3L, 5L});
  const at::Tensor baseline = at::full({1, 3, 4, 4}, 0.25);
  const at::Tensor expected = (x - baseline) * weight_rows(*m, t, x.sizes());
  for (const char* method : {"gausslegendre", "riemann_left", "riemann_right", "riemann_middle", "riemann_trapezoid"}) {
    const Attribution a = integrated_gradients(
        *m, x, t, baseline,
        IntegratedGradientsOptions().n_steps(7).method(parse_integration_rule(method)).return_convergence_delta(true));
    EXPECT_TRUE(at::allclose(a.attributions, expected, 1e-5, 1e-6)) << method;
    EXPECT_LT(a.delta.abs().max().item<double>(), 1e-4) << method;
  }
}

TEST(IntegratedGradients, CompletenessOnAReluNetworkImprovesWithSteps) {
  torch::manual_seed(4);
  auto m = models::make_model(models::ModelOptions("cnn", {1, 8, 8}, 4).conv_channels(4).hidden(16));
  const at::Tensor x = at::rand({3, 1, 8, 8});
  const at::Tensor t = at::tensor({0L, 1L, 3L});
  std::vector<double> deltas;
  for (int64_t n : {2, 10, 50, 300}) {
    const Attribution a = integrated_gradients(*m, x, t, {}, IntegratedGradientsOptions().n_steps(n).return_convergence_delta(true));
    deltas.push_back(a.delta.abs().max().item<double>());
  }
  // Completeness: sum(attr) -> F(x) - F(0) as the integral converges.
  EXPECT_LT(deltas.back(), deltas.front());
  EXPECT_LT(deltas.back(), 2e-3);
}

TEST(IntegratedGradients, InternalBatchSizeChangesNothingButMemory) {
  torch::manual_seed(5);
  auto m = models::make_model(models::ModelOptions("mlp", {1, 6, 6}, 3).hidden(8));
  const at::Tensor x = at::rand({4, 1, 6, 6});
  const at::Tensor t = at::tensor({0L, 1L, 2L, 0L});
  const at::Tensor all = integrated_gradients(*m, x, t).attributions;
  for (int64_t ibs : {1, 4, 9, 37})
    EXPECT_TRUE(at::allclose(integrated_gradients(*m, x, t, {}, IntegratedGradientsOptions().internal_batch_size(ibs)).attributions,
                             all, 1e-5, 1e-6)) << ibs;
}

TEST(IntegrationPoints, WeightsSumToOneAndGaussLegendreIsExactForPolynomials) {
  std::vector<double> a, w;
  for (const char* method : {"gausslegendre", "riemann_left", "riemann_right", "riemann_middle", "riemann_trapezoid"}) {
    integration_points(parse_integration_rule(method), 9, a, w);
    double sum = 0;
    for (double v : w) sum += v;
    EXPECT_NEAR(sum, 1.0, 1e-12) << method;
    for (double v : a) EXPECT_TRUE(v >= 0 && v <= 1) << method;
  }
  // n Gauss-Legendre points integrate degree 2n - 1 exactly: with 3 points, int_0^1 x^5 = 1/6.
  integration_points(IntegrationRule::gauss_legendre, 3, a, w);
  double integral = 0;
  for (size_t i = 0; i < a.size(); ++i) integral += w[i] * std::pow(a[i], 5);
  EXPECT_NEAR(integral, 1.0 / 6.0, 1e-12);
  integration_points(IntegrationRule::gauss_legendre, 1, a, w);
  EXPECT_NEAR(a[0], 0.5, 1e-12);
  EXPECT_THROW(parse_integration_rule("simpson"), glassbox::Error);
  EXPECT_THROW(integration_points(IntegrationRule::gauss_legendre, kMaxIntegrationSteps + 1, a, w), glassbox::Error);
  EXPECT_THROW(integration_points(IntegrationRule::riemann_trapezoid, 1, a, w), glassbox::Error);
}

TEST(NoiseTunnel, ZeroNoiseIsThePlainGradientAndNoiseAverages) {
  torch::manual_seed(6);
  auto m = models::make_model(models::ModelOptions("mlp", {1, 6, 6}, 3).hidden(8));
  const at::Tensor x = at::rand({2, 1, 6, 6});
  const at::Tensor t = at::tensor({2L, 0L});
  auto grad = [&](const at::Tensor& in) { return saliency(*m, in, t, false); };
  const at::Tensor plain = grad(x);
  EXPECT_TRUE(at::allclose(noise_tunnel(grad, x, NoiseTunnelOptions().stdevs(0).nt_samples(4)), plain, 1e-6, 1e-7));
  EXPECT_TRUE(at::allclose(noise_tunnel(grad, x, NoiseTunnelOptions().stdevs(0).nt_type(NoiseTunnelType::smoothgrad_sq)), plain * plain,
                           1e-6, 1e-8));
  EXPECT_LT(noise_tunnel(grad, x, NoiseTunnelOptions().stdevs(0).nt_type(NoiseTunnelType::vargrad)).abs().max().item<double>(), 1e-6);
  // With noise, a linear model's gradient is still exactly its weights.
  auto lin = logreg(1, 6, 6, 3);
  auto lin_grad = [&](const at::Tensor& in) { return saliency(*lin, in, t, false); };
  EXPECT_TRUE(at::allclose(noise_tunnel(lin_grad, x, NoiseTunnelOptions().stdevs(0.3)), lin_grad(x), 1e-5, 1e-6));
}

TEST(Occlusion, OnePixelWindowsOnALinearModelAreInputTimesWeight) {
  auto m = logreg(1, 5, 4, 3);
  const at::Tensor x = at::rand({2, 1, 5, 4});
  const at::Tensor t = at::tensor({1L, 2L});
  const at::Tensor occ = occlusion(*m, x, t, OcclusionOptions().window_h(1).window_w(1).stride_h(1).stride_w(1));
  EXPECT_TRUE(at::allclose(occ, x * weight_rows(*m, t, x.sizes()), 1e-5, 1e-6));
}

TEST(Occlusion, WindowsCoverTheBorderAsCaptumPlacesThem) {
  // Window 5, stride 2 on 28 x 28: Captum places ceil((28 - 5) / 2) + 1 = 13 windows per axis, starting
  // at 0, 2, ..., 24, the last clipped to 24..27, so every pixel is covered (floor placed 12 and left
  // the last row and column at 0). On a linear model a window's drop is the sum of x * W_t over its
  // pixels; each pixel's attribution is the mean drop of the windows covering it, computed here by hand.
  auto m = logreg(1, 28, 28, 3);
  const at::Tensor x = at::rand({1, 1, 28, 28});
  const at::Tensor t = at::tensor({2L});
  const at::Tensor occ = occlusion(*m, x, t, OcclusionOptions().window_h(5).window_w(5).stride_h(2).stride_w(2));
  const at::Tensor contribution = (x * weight_rows(*m, t, x.sizes()))[0][0].to(at::kDouble);
  auto c = contribution.accessor<double, 2>();
  std::vector<std::vector<double>> sum(28, std::vector<double>(28, 0.0)), count = sum;
  for (int y0 = 0; y0 <= 24; y0 += 2)
    for (int x0 = 0; x0 <= 24; x0 += 2) {
      double drop = 0;
      for (int y = y0; y < std::min(28, y0 + 5); ++y)
        for (int xx = x0; xx < std::min(28, x0 + 5); ++xx) drop += c[y][xx];
      for (int y = y0; y < std::min(28, y0 + 5); ++y)
        for (int xx = x0; xx < std::min(28, x0 + 5); ++xx) sum[y][xx] += drop, count[y][xx] += 1;
    }
  auto o = occ[0][0].to(at::kDouble).contiguous();
  auto a = o.accessor<double, 2>();
  for (int y = 0; y < 28; ++y)
    for (int xx = 0; xx < 28; ++xx) {
      ASSERT_GT(count[y][xx], 0) << y << "," << xx;
      EXPECT_NEAR(a[y][xx], sum[y][xx] / count[y][xx], 1e-4) << y << "," << xx;
    }
}

TEST(Attribution, PerSampleTargetsEqualOneSampleAtATime) {
  torch::manual_seed(7);
  auto m = models::make_model(models::ModelOptions("cnn", {2, 8, 8}, 5).conv_channels(4).hidden(16));
  const at::Tensor x = at::rand({4, 2, 8, 8});
  const at::Tensor t = at::tensor({4L, 0L, 4L, 1L});
  // Every registered method, layer methods on the cnn's conv2 and conv1. Not SmoothGrad: its noise is
  // drawn for the batch as a whole (as Captum's NoiseTunnel draws it), so it differs sample by sample.
  for (const AttributionMethod* method : attribution_methods())
    for (const char* layer : {"conv2", "conv1"}) {
      if (std::string(method->name()) == "smoothgrad" || method->uses_attention()) continue;  // no attention here
      if (method->reads_batch()) continue;  // by definition: feature permutation exchanges features between samples
      if (!method->uses_layer() && std::string(layer) == "conv1") continue;
      AttributeOptions options = AttributeOptions().layer(LayerOptions().layer(layer).internal_batch_size(5));
      options.perturbation().feature_size(4).n_samples(6).rise_masks(12);  // 4 cells of the 8x8 input
      const at::Tensor batch = method->attribute({*m, x, t, options});
      for (int64_t i = 0; i < 4; ++i) {
        const at::Tensor one = method->attribute({*m, x.narrow(0, i, 1), t.narrow(0, i, 1), options});
        EXPECT_TRUE(at::allclose(batch.narrow(0, i, 1), one, 1e-4, 1e-6)) << method->name() << " " << layer << " sample " << i;
      }
    }
}

TEST(Attribution, NeverTouchesParameterGradientsAndRestoresTheMode) {
  torch::manual_seed(8);
  auto m = models::make_model(models::ModelOptions("mlp", {1, 6, 6}, 3).hidden(8));
  for (auto& p : m->parameters()) p.mutable_grad() = at::full_like(p, 0.125);
  m->train(true);
  const at::Tensor x = at::rand({2, 1, 6, 6});
  const at::Tensor t = at::tensor({0L, 2L});
  AttributeOptions options;
  options.perturbation().feature_size(3).n_samples(4).rise_masks(8);  // 4 cells of the 6x6 input
  for (const AttributionMethod* method : attribution_methods())
    if (!method->uses_layer() && !method->uses_attention()) method->attribute({*m, x, t, options});
  morph(*m, {}, x.narrow(0, 0, 1), MorphOptions(1).steps(3));
  morph(*m, {}, x.narrow(0, 0, 1), MorphOptions(1).steps(3).engine(MorphEngine::pgd).eps(0.1));
  for (auto& p : m->parameters()) EXPECT_TRUE(at::equal(p.grad(), at::full_like(p, 0.125)));
  EXPECT_TRUE(m->is_training());
}

TEST(Attribution, BadTargetsAndShapesAreClearErrors) {
  auto m = logreg();
  const at::Tensor x = at::rand({2, 1, 5, 4});
  try {
    saliency(*m, x, at::tensor({0L, 3L}));
    FAIL();
  } catch (const glassbox::Error& e) {
    EXPECT_NE(std::string(e.what()).find("targets: class 3 is out of range"), std::string::npos) << e.what();
  }
  EXPECT_THROW(saliency(*m, at::rand({2, 3, 5, 4}), at::tensor({0L, 1L})), glassbox::Error);
  EXPECT_THROW(saliency(*m, x, at::tensor({0L})), glassbox::Error);
  EXPECT_THROW(find_attribution_method("gradcam2"), glassbox::Error);
}

namespace {
// A model whose logits are NaN: attribution must refuse it, not draw garbage.
struct NanModel : models::Classifier {
  at::Tensor w = at::ones({1});
  at::Tensor forward(const at::Tensor& x) override { return (x.flatten(1).sum(1, true) * w).expand({-1, 3}) * NAN; }
  std::vector<at::Tensor> parameters() override { return {w}; }
  void train(bool) override {}
  bool is_training() const override { return false; }
  void to(c10::Device) override {}
  models::InputShape input_shape() const override { return {1, 2, 2}; }
  int64_t num_classes() const override { return 3; }
  std::string name() const override { return "nan-model"; }
};
}  // namespace

TEST(Attribution, NonFiniteLogitsAreAnError) {
  NanModel m;
  EXPECT_THROW(saliency(m, at::rand({1, 1, 2, 2}), at::tensor({0L})), glassbox::Error);
}

TEST(Morph, ReachesTheTargetWithinTheValidRangeAndBudget) {
  auto m = logreg(1, 5, 4, 3);
  {
    torch::NoGradGuard no_grad;
    m->parameters()[0].mul_(20);  // strong enough weights that pixels in [0, 1] can reach 90 %
  }
  const at::Tensor x = at::rand({1, 1, 5, 4});
  const int64_t target = 2;
  const MorphTrajectory t = morph(*m, {}, x, MorphOptions(target).steps(200).step_size(0.05).stop_probability(0.9));
  EXPECT_TRUE(t.reached);
  EXPECT_EQ(t.predicted.back(), target);
  EXPECT_GE(t.target_probability.back(), 0.9);
  EXPECT_GT(t.target_probability.back(), t.target_probability.front());
  for (const at::Tensor& f : t.frames) {
    EXPECT_GE(f.min().item<double>(), 0.0);
    EXPECT_LE(f.max().item<double>(), 1.0);
  }
  EXPECT_TRUE(at::allclose(t.frames.front(), x[0]));
  // An L-infinity budget: no pixel moves more than eps.
  const MorphTrajectory b = morph(*m, {}, x, MorphOptions(target).steps(50).norm(MorphNorm::linf).eps(0.05).step_size(0.01));
  EXPECT_LE((b.frames.back() - x[0]).abs().max().item<double>(), 0.05 + 1e-6);
  EXPECT_THROW(morph(*m, {}, x, MorphOptions(7)), glassbox::Error);
}

TEST(Morph, WorksInUnnormalisedSpaceForANormalisedModel) {
  auto m = logreg(1, 5, 4, 3);
  data::Normalization n{{0.5}, {0.25}};
  const at::Tensor pixels = at::rand({1, 1, 5, 4});
  const MorphTrajectory t = morph(*m, models::InputSpec().preprocess(data::Preprocess().normalize(n)), n.apply(pixels), MorphOptions(0).steps(30));
  EXPECT_TRUE(at::allclose(t.frames.front(), pixels[0], 1e-5, 1e-6));
  for (const at::Tensor& f : t.frames) EXPECT_LE(f.max().item<double>(), 1.0 + 1e-6);
}

TEST(Project, AddsKTimesTheGradientAndClamps) {
  const at::Tensor x = at::full({1, 1, 2, 2}, 0.5);
  const at::Tensor g = at::tensor({1.0f, -1.0f, 0.01f, 0.0f}).view({1, 1, 2, 2});
  const at::Tensor p = project(x, g, 3.0);
  EXPECT_FLOAT_EQ(p[0][0][0][0].item<float>(), 1.0f);  // clamped from 3.5
  EXPECT_FLOAT_EQ(p[0][0][0][1].item<float>(), 0.0f);  // clamped from -2.5
  EXPECT_FLOAT_EQ(p[0][0][1][0].item<float>(), 0.53f);
}

TEST(Confusion, PerSampleRuleAndVanishedGradients) {
  const at::Tensor logits = at::tensor({6.0, 5.95, 0.0,    // confused: gap 0.05, top 6
                                        1.0, 0.99, 0.0,    // gap small but top below 5
                                        9.0, 2.0, 1.0,     // clear
                                        0.0, 0.0, 0.0})    // the seed model's dead logits: tie at 0
                               .view({4, 3});
  const auto c = find_confused(logits);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].index, 0);
  EXPECT_EQ(c[0].class_a, 0);
  EXPECT_EQ(c[0].class_b, 1);
  EXPECT_NEAR(c[0].gap, 0.05, 1e-9);
  EXPECT_EQ(find_confused(logits, ConfusionRule().min_logit_value(0)).size(), 3u);  // the dead tie counts then
  EXPECT_TRUE(gradient_vanished(at::zeros({1, 2, 2})));
  EXPECT_FALSE(gradient_vanished(at::tensor({0.0, 1e-9}).view({1, 1, 2})));
}

TEST(Confusion, MiningRanksByGapAndCountsPairs) {
  // A logreg whose logits are the first three pixels: the data decide the gaps.
  auto m = logreg(1, 1, 3, 3);
  {
    torch::NoGradGuard no_grad;
    m->parameters()[0].copy_(at::eye(3));
    m->parameters()[1].zero_();
  }
  const at::Tensor images = at::tensor({255, 0, 0, 200, 190, 0, 100, 0, 99, 0, 0, 255}, at::kByte).view({4, 1, 1, 3});
  const data::Dataset d(images, at::tensor({0L, 0L, 2L, 2L}), 3);
  const MiningResult r = mine_confusion(*m, {}, d, MiningOptions().top(2).pair_max_gap(0.1));
  ASSERT_EQ(r.ranked.size(), 2u);
  EXPECT_EQ(r.ranked[0].index, 2);  // gap 1/255
  EXPECT_EQ(r.ranked[0].class_a, 0);
  EXPECT_EQ(r.ranked[0].class_b, 2);
  EXPECT_EQ(r.ranked[1].index, 1);  // gap 10/255
  EXPECT_EQ(r.pair_counts[0][2].item<int64_t>(), 1);
  EXPECT_EQ(r.pair_counts[2][0].item<int64_t>(), 1);
  EXPECT_EQ(r.pair_counts.sum().item<int64_t>(), 4);  // samples 1 and 2, both orders
  EXPECT_DOUBLE_EQ(r.accuracy, 0.75);  // sample 2 (label 2) is predicted 0
}
