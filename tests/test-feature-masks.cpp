// Feature masks and the methods that came with them, against independent truth: SLIC on a picture of
// four flat colours is its four quadrants, and on a photograph agrees with scikit-image's slic (run by
// python3-skimage at test time) as an adjusted Rand index; on a linear model, LIME without a penalty,
// feature ablation over superpixels and feature permutation equal the features' sums of w * (x - x'),
// the ridge fit equals the same problem solved as an augmented least-squares system.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <fstream>
#include <iostream>
#include <map>

#include "glassbox/explain/methods.h"
#include "glassbox/explain/perturbation-methods.h"
#include "glassbox/explain/superpixels.h"
#include "glassbox/models/architectures.h"
#include "tensor-files.h"
#include "test-support.h"

using namespace glassbox;
using namespace glassbox::explain;
using glassbox::testing::parameter_of;

namespace {

double relative_error(const at::Tensor& got, const at::Tensor& want) {
  return ((got - want).abs().max() / (want.abs().max() + 1e-12)).item<double>();
}

// The adjusted Rand index of two labellings (Hubert and Arabie 1985): 1 for equal partitions, about 0
// for unrelated ones.
double adjusted_rand_index(const at::Tensor& a, const at::Tensor& b) {
  const at::Tensor x = a.flatten().to(at::kLong), y = b.flatten().to(at::kLong);
  std::map<std::pair<int64_t, int64_t>, double> joint;
  std::map<int64_t, double> rows, cols;
  const auto xa = x.accessor<int64_t, 1>(), ya = y.accessor<int64_t, 1>();
  for (int64_t i = 0; i < x.size(0); ++i) {
    joint[{xa[i], ya[i]}] += 1;
    rows[xa[i]] += 1;
    cols[ya[i]] += 1;
  }
  auto pairs = [](double n) { return n * (n - 1) / 2; };
  double index = 0, sum_rows = 0, sum_cols = 0;
  for (const auto& [k, n] : joint) index += pairs(n);
  for (const auto& [k, n] : rows) sum_rows += pairs(n);
  for (const auto& [k, n] : cols) sum_cols += pairs(n);
  const double expected = sum_rows * sum_cols / pairs(double(x.size(0)));
  return (index - expected) / ((sum_rows + sum_cols) / 2 - expected);
}

// Whether every label of [H, W] is one 4-connected region, and the labels are 0..K-1.
bool labels_are_connected_regions(const at::Tensor& labels) {
  const int64_t H = labels.size(0), W = labels.size(1), K = labels.max().item<int64_t>() + 1;
  const at::Tensor l = labels.contiguous();
  const auto la = l.accessor<int64_t, 2>();
  std::vector<int> seen(static_cast<size_t>(K), 0), visited(static_cast<size_t>(H * W), 0);
  for (int64_t start = 0; start < H * W; ++start) {
    if (visited[size_t(start)]) continue;
    const int64_t label = la[start / W][start % W];
    if (seen[size_t(label)]++) return false;  // a second region with this label
    std::vector<int64_t> stack{start};
    visited[size_t(start)] = 1;
    while (!stack.empty()) {
      const int64_t p = stack.back();
      stack.pop_back();
      const int64_t py = p / W, px = p % W;
      const int64_t ny[4] = {py - 1, py + 1, py, py}, nx[4] = {px, px, px - 1, px + 1};
      for (int d = 0; d < 4; ++d) {
        if (ny[d] < 0 || ny[d] >= H || nx[d] < 0 || nx[d] >= W) continue;
        const int64_t q = ny[d] * W + nx[d];
        if (!visited[size_t(q)] && la[ny[d]][nx[d]] == label) {
          visited[size_t(q)] = 1;
          stack.push_back(q);
        }
      }
    }
  }
  for (int64_t k = 0; k < K; ++k)
    if (!seen[size_t(k)]) return false;
  return true;
}

// Four flat quadrants of clearly different colours, [3, 32, 32].
at::Tensor quadrants() {
  at::Tensor img = at::empty({3, 32, 32});
  const float colours[4][3] = {{0.9f, 0.1f, 0.1f}, {0.1f, 0.8f, 0.2f}, {0.1f, 0.2f, 0.9f}, {0.9f, 0.9f, 0.2f}};
  for (int q = 0; q < 4; ++q)
    for (int c = 0; c < 3; ++c) img[c].narrow(0, (q / 2) * 16, 16).narrow(1, (q % 2) * 16, 16).fill_(colours[q][c]);
  return img;
}

at::Tensor linear_weights(models::Classifier& model) {
  for (const auto& [name, p] : model.named_parameters())
    if (name == "l1.weight") return p.detach();
  return {};
}

// Per pixel, the sum of `per_pixel` [H, W] over the pixel's label in `labels` [H, W].
at::Tensor sum_over_labels(const at::Tensor& per_pixel, const at::Tensor& labels) {
  const int64_t K = labels.max().item<int64_t>() + 1;
  const at::Tensor sums = at::zeros({K}, per_pixel.options()).index_add_(0, labels.flatten(), per_pixel.flatten());
  return sums.index_select(0, labels.flatten()).view_as(per_pixel);
}

}  // namespace

TEST(Slic, FourFlatQuadrantsAreFourSuperpixelsWhateverTheNormalisation) {
  const at::Tensor img = quadrants();
  const at::Tensor labels = slic(img, SlicOptions().n_segments(4));
  ASSERT_EQ(labels.sizes(), (std::vector<int64_t>{32, 32}));
  const at::Tensor truth = (at::arange(32).div(16, "floor").view({32, 1}) * 2 + at::arange(32).div(16, "floor").view({1, 32}));
  EXPECT_DOUBLE_EQ(adjusted_rand_index(labels, truth), 1.0);
  EXPECT_TRUE(labels_are_connected_regions(labels));
  // A model's input normalisation (per channel: minus a mean, over a deviation) changes nothing.
  const at::Tensor normalised = (img - at::tensor({0.485f, 0.456f, 0.406f}).view({3, 1, 1})) / at::tensor({0.229f, 0.224f, 0.225f}).view({3, 1, 1});
  EXPECT_TRUE(slic(normalised, SlicOptions().n_segments(4)).equal(labels));
  // One channel (intensities) too.
  EXPECT_DOUBLE_EQ(adjusted_rand_index(slic(img.narrow(0, 0, 1) + img.narrow(0, 2, 1) * 2, SlicOptions().n_segments(4)), truth), 1.0);
}

TEST(Slic, AgreesWithScikitImageOnAPhotograph) {
  const std::string dir = glassbox::testing::scratch_dir("feature-masks/" + std::to_string(::getpid()));
  std::ofstream(dir + "/slic.py") << R"(import sys, numpy as np
from skimage import data, transform
from skimage.segmentation import slic
d = sys.argv[1]
img = transform.resize(data.astronaut(), (96, 96), anti_aliasing=True).astype(np.float32)
open(d + '/image.raw', 'wb').write(np.ascontiguousarray(img.transpose(2, 0, 1)).tobytes())
labels = slic(img, n_segments=60, compactness=10, start_label=0)
open(d + '/labels.raw', 'wb').write(labels.astype(np.int64).tobytes())
)";
  const auto run = glassbox::testing::run_command("/usr/bin/python3 " + dir + "/slic.py " + dir + " 2>&1");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const at::Tensor image = glassbox::testing::raw_floats(dir + "/image.raw", {3, 96, 96});
  const at::Tensor theirs = glassbox::testing::raw_longs(dir + "/labels.raw", {96, 96});
  const at::Tensor ours = slic(image, SlicOptions().n_segments(60));
  EXPECT_TRUE(labels_are_connected_regions(ours));
  const int64_t n_ours = ours.max().item<int64_t>() + 1, n_theirs = theirs.max().item<int64_t>() + 1;
  // Both start from the same 8 x 8 grid here; scikit-image then merges pieces smaller than half a cell,
  // the paper's code (and ours) smaller than a quarter: we keep more, never fewer.
  EXPECT_GE(n_ours, n_theirs);
  EXPECT_LE(n_ours, 64);
  EXPECT_GE(n_ours, 40);
  // Two implementations of one algorithm differ in their starting grid and in their merging of small
  // pieces; the same partition up to those: an index well above chance (0) and near theirs.
  const double ari = adjusted_rand_index(ours, theirs);
  EXPECT_GT(ari, 0.5) << "adjusted Rand index " << ari;
  std::cout << "adjusted Rand index with scikit-image's slic: " << ari << " (" << n_ours << " and " << n_theirs << " superpixels)\n";
  // A grid of as many squares agrees less with scikit-image's superpixels than ours do.
  const int64_t side = int64_t(std::lround(96 / std::sqrt(double(n_theirs))));
  const at::Tensor grid = at::arange(96).div(side, "floor").view({96, 1}) * 96 + at::arange(96).div(side, "floor").view({1, 96});
  EXPECT_GT(ari, adjusted_rand_index(grid, theirs) + 0.1);
}

TEST(Slic, RefusesBadOptionsByName) {
  const at::Tensor img = quadrants();
  EXPECT_EQ(parameter_of([&] { slic(img, SlicOptions().n_segments(0)); }), "n_segments");
  EXPECT_EQ(parameter_of([&] { slic(img, SlicOptions().compactness(-1)); }), "compactness");
  EXPECT_EQ(parameter_of([&] { slic(img, SlicOptions().compactness(std::nan(""))); }), "compactness");
  // More superpixels asked than pixels: one per pixel at most.
  EXPECT_LE(slic(img.narrow(1, 0, 4).narrow(2, 0, 4), SlicOptions().n_segments(1000)).max().item<int64_t>(), 15);
}

TEST(Lime, WithoutAPenaltyOnALinearModelIsEachFeaturesWeightedDifference) {
  torch::manual_seed(3);
  auto model = models::make_model(models::ModelOptions("logreg", {1, 8, 8}, 3));
  const at::Tensor w = linear_weights(*model);
  const at::Tensor x = at::rand({2, 1, 8, 8});
  const at::Tensor t = at::tensor({1, 2}, at::kLong);
  const PerturbationOptions o = PerturbationOptions().feature_size(4).baseline(0.1).n_samples(60).lime_alpha(0).perturbations_per_eval(9);
  const at::Tensor per_pixel = w.index_select(0, t).view({2, 1, 8, 8}) * (x - 0.1);
  const at::Tensor want = per_pixel.view({2, 2, 4, 2, 4}).sum({2, 4}, true).expand({2, 2, 4, 2, 4}).reshape({2, 1, 8, 8});
  EXPECT_LT(relative_error(lime(*model, x, t, o), want), 1e-4);
  // A penalty shrinks the coefficients: their norm falls as it grows.
  const at::Tensor shrunk = lime(*model, x, t, PerturbationOptions(o).lime_alpha(1.0));
  const at::Tensor more = lime(*model, x, t, PerturbationOptions(o).lime_alpha(10.0));
  EXPECT_LT(shrunk.pow(2).sum().item<double>(), want.pow(2).sum().item<double>());
  EXPECT_LT(more.pow(2).sum().item<double>(), shrunk.pow(2).sum().item<double>());
  EXPECT_EQ(parameter_of([&] { lime(*model, x, t, PerturbationOptions(o).lime_alpha(-1)); }), "lime_alpha");
  EXPECT_EQ(parameter_of([&] { lime(*model, x, t, PerturbationOptions(o).lime_kernel_width(0)); }), "lime_kernel_width");
}

TEST(Lime, WeightedRidgeEqualsTheAugmentedLeastSquaresSystem) {
  // min sum_s w_s (y_s - c - X_s b)^2 + alpha |b|^2 is the least-squares solution of
  // [sqrt(w) | sqrt(w) X; 0 | sqrt(alpha) I] [c; b] = [sqrt(w) y; 0].
  torch::manual_seed(4);
  const int64_t S = 30, F = 5, B = 3;
  const double alpha = 0.7;
  const at::Tensor X = at::randint(2, {S, F}).to(at::kDouble), Y = at::randn({S, B}, at::kDouble);
  const at::Tensor w = at::rand({S}, at::kDouble) + 0.1;
  const at::Tensor r = w.sqrt().unsqueeze(1);
  const at::Tensor top = at::cat({r, r * X}, 1);
  const at::Tensor bottom = at::cat({at::zeros({F, 1}, at::kDouble), std::sqrt(alpha) * at::eye(F, at::kDouble)}, 1);
  const at::Tensor A = at::cat({top, bottom}, 0), rhs = at::cat({r * Y, at::zeros({F, B}, at::kDouble)}, 0);
  const at::Tensor want = std::get<0>(at::linalg_lstsq(A, rhs, c10::nullopt, "gelsd")).narrow(0, 1, F);
  EXPECT_LT(relative_error(weighted_ridge(X, Y, w, alpha), want), 1e-10);
}

TEST(FeatureMasks, SuperpixelFeaturesAreEachSamplesOwn) {
  // Two images with different layouts: their superpixels differ, and feature ablation and
  // LIME over them equal each superpixel's sum of w * (x - baseline) on a linear model.
  torch::manual_seed(5);
  auto model = models::make_model(models::ModelOptions("logreg", {3, 32, 32}, 2));
  const at::Tensor w = linear_weights(*model);
  const at::Tensor a = quadrants(), b = quadrants().roll(8, 2).contiguous();
  const at::Tensor x = at::stack({a, b});
  const at::Tensor t = at::tensor({0, 1}, at::kLong);
  const PerturbationOptions o = PerturbationOptions()
                                    .feature_mask(FeatureMaskKind::superpixels)
                                    .slic(SlicOptions().n_segments(4))
                                    .baseline(0.5)
                                    .n_samples(40)
                                    .lime_alpha(0);
  std::vector<at::Tensor> want;
  for (int64_t i = 0; i < 2; ++i) {
    const at::Tensor labels = slic(x[i], o.slic());
    const at::Tensor per_pixel = (w[t[i].item<int64_t>()].view({3, 32, 32}) * (x[i] - 0.5)).sum(0);
    want.push_back(sum_over_labels(per_pixel, labels).unsqueeze(0).expand({3, 32, 32}));
  }
  const at::Tensor expected = at::stack(want);
  ASSERT_FALSE(slic(a, o.slic()).equal(slic(b, o.slic())));
  EXPECT_LT(relative_error(feature_ablation(*model, x, t, o), expected), 1e-4);
  EXPECT_LT(relative_error(lime(*model, x, t, o), expected), 1e-4);
  EXPECT_LT(relative_error(kernel_shap(*model, x, t, o), expected), 1e-3);
  EXPECT_LT(relative_error(shapley_value_sampling(*model, x, t, PerturbationOptions(o).n_samples(3)), expected), 1e-4);
}

TEST(FeaturePermutation, ExchangesEachCellBetweenTheSamples) {
  // With two samples the only permutation that moves one is the swap: sample 0's value for a cell is
  // w_t0 . (x0 - x1) over the cell, sample 1's w_t1 . (x1 - x0).
  torch::manual_seed(6);
  auto model = models::make_model(models::ModelOptions("logreg", {1, 8, 8}, 3));
  const at::Tensor w = linear_weights(*model);
  const at::Tensor x = at::rand({2, 1, 8, 8});
  const at::Tensor t = at::tensor({2, 0}, at::kLong);
  const at::Tensor swapped = x.flip(0);
  const at::Tensor per_pixel = w.index_select(0, t).view({2, 1, 8, 8}) * (x - swapped);
  const at::Tensor want = per_pixel.view({2, 2, 4, 2, 4}).sum({2, 4}, true).expand({2, 2, 4, 2, 4}).reshape({2, 1, 8, 8});
  const PerturbationOptions o = PerturbationOptions().feature_size(4).perturbations_per_eval(3);
  EXPECT_LT(relative_error(feature_permutation(*model, x, t, o), want), 1e-5);
  EXPECT_LT(relative_error(attribute("feature_permutation", *model, x, t, AttributeOptions().perturbation(o)), want), 1e-5);
  // Larger batches: every cell's values come from other samples, so on a linear model a sample's
  // values over all cells add up to w . x minus what the others lent it, and the batch's total is 0
  // for one target shared by all (each sample's pixels lent once per cell).
  const at::Tensor x4 = at::rand({4, 1, 8, 8});
  const at::Tensor t4 = at::zeros({4}, at::kLong);
  const at::Tensor all = feature_permutation(*model, x4, t4, o);
  EXPECT_LT(all.view({4, 2, 4, 2, 4}).amax({2, 4}).sum().abs().item<double>(), 1e-4);
  EXPECT_THROW(feature_permutation(*model, x.narrow(0, 0, 1), t.narrow(0, 0, 1), o), Error);
  EXPECT_EQ(parameter_of([&] {
              feature_permutation(*model, x, t, PerturbationOptions(o).feature_mask(FeatureMaskKind::superpixels));
            }),
            "feature_mask");
}
