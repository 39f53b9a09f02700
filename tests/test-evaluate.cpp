// The faithfulness metrics and sanity checks against truth that does not come from glassbox:
// - closed forms: deletion on a linear model in the order of its contributions w * x (the optimal order,
//   its curve the sigmoid of the contributions left), infidelity and sensitivity of the exact gradient of
//   a linear model (0), completeness of input x gradient on a linear model (0), the Gini index of a
//   one-hot and of a uniform map;
// - each definition re-derived in Python (python3-torch, scipy, skimage) at test time, per sample in
//   plain loops, on a seeded scripted CNN: deletion and insertion (RISE's gkern blur), ROAD's imputation
//   (scipy's spsolve) and curves, Captum's infidelity and sensitivity_max formulas on perturbations
//   Python drew, Quantus's Gini, scipy's Spearman, skimage's SSIM;
// - the randomisation test's own control: an edge detector, which ignores the model, keeps its map
//   (Spearman 1 at every step, SSIM 1 for another class) and fails; Grad-CAM changes when the last layer
//   is randomised; the model's parameters are back, bit for bit, after.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>

#include "glassbox/evaluate/evaluation.h"
#include "glassbox/evaluate/faithfulness.h"
#include "glassbox/evaluate/metrics.h"
#include "glassbox/explain/methods.h"
#include "glassbox/models/torchscript.h"
#include "tensor-files.h"
#include "test-support.h"

using namespace glassbox;
using namespace glassbox::evaluate;
using glassbox::testing::parameter_of;
using glassbox::testing::raw_floats;
using glassbox::testing::raw_longs;

namespace {

// logits = [w . x, 0]: the probability of class 0 is sigmoid(w . x).
class LinearTwoClass : public models::Classifier {
 public:
  explicit LinearTwoClass(at::Tensor w) : w_(std::move(w)) {}
  at::Tensor forward(const at::Tensor& x) override {
    const at::Tensor s = (x * w_).flatten(1).sum(1, true);
    return at::cat({s, at::zeros_like(s)}, 1);
  }
  std::vector<at::Tensor> parameters() override { return {w_}; }
  void train(bool on) override { training_ = on; }
  bool is_training() const override { return training_; }
  void to(c10::Device) override {}
  models::InputShape input_shape() const override { return {w_.size(1), w_.size(2), w_.size(3)}; }
  int64_t num_classes() const override { return 2; }
  std::string name() const override { return "linear"; }

 private:
  at::Tensor w_;
  bool training_ = false;
};

double sigmoid(double v) { return 1.0 / (1.0 + std::exp(-v)); }

TEST(Deletion, OnALinearModelInTheOrderOfItsContributionsIsTheClosedForm) {
  at::manual_seed(3);
  const at::Tensor w = at::randn({1, 1, 5, 6}, at::kDouble).to(at::kFloat) * 0.7;
  const at::Tensor x = at::rand({2, 1, 5, 6});
  LinearTwoClass model(w);
  const at::Tensor targets = at::zeros({2}, at::kLong);
  const at::Tensor contributions = x * w;  // input x gradient, exact for a linear model
  const int64_t steps = 7, N = 30;
  const PerturbationCurve got = deletion(model, x, targets, contributions, PixelFlippingOptions().steps(steps), 5);
  ASSERT_EQ(got.curve.sizes(), (std::vector<int64_t>{2, steps + 1}));
  for (int64_t b = 0; b < 2; ++b) {
    std::vector<double> c(N);
    for (int64_t p = 0; p < N; ++p) c[static_cast<size_t>(p)] = contributions[b][0].flatten()[p].item<double>();
    std::vector<double> sorted = c;
    std::sort(sorted.begin(), sorted.end(), std::greater<double>());
    double area = 0;
    std::vector<double> curve;
    for (int64_t k = 0; k <= steps; ++k) {
      const int64_t removed = k * N / steps;
      curve.push_back(sigmoid(std::accumulate(sorted.begin() + removed, sorted.end(), 0.0)));
      EXPECT_NEAR(got.curve[b][k].item<double>(), curve.back(), 1e-6) << "sample " << b << " step " << k;
    }
    for (int64_t k = 0; k < steps; ++k) area += (curve[static_cast<size_t>(k)] + curve[static_cast<size_t>(k + 1)]) / 2 / steps;
    EXPECT_NEAR(got.area[b].item<double>(), area, 1e-6);
  }
  // Removing the largest contributions first is optimal: any other order leaves a larger area.
  const PerturbationCurve shuffled = deletion(model, x, targets, at::rand({2, 1, 5, 6}), PixelFlippingOptions().steps(steps), 64);
  EXPECT_TRUE((shuffled.area >= got.area - 1e-9).all().item<bool>()) << shuffled.area << got.area;
  // Insertion of the same order over a zero substitute runs the curve the other way round.
  const PerturbationCurve ins = insertion(model, x, targets, contributions,
                                          PixelFlippingOptions().steps(steps).insertion_substitute(Substitute::zeros), 3);
  EXPECT_NEAR(ins.curve[0][0].item<double>(), 0.5, 1e-6);
  EXPECT_NEAR(ins.curve[0][steps].item<double>(), got.curve[0][0].item<double>(), 1e-6);
}

TEST(Infidelity, OfTheExactGradientOfALinearModelIsZeroAndCompletenessHolds) {
  at::manual_seed(4);
  const at::Tensor w = at::randn({1, 3, 4, 4});
  LinearTwoClass model(w);
  const at::Tensor x = at::rand({3, 3, 4, 4}), targets = at::zeros({3}, at::kLong);
  const at::Tensor gradient = explain::saliency(model, x, targets, /*abs=*/false);
  const at::Tensor inf = infidelity(model, x, targets, gradient, InfidelityOptions().n_perturb_samples(6).stdev(0.1), explain::Score::logit, 4);
  EXPECT_LT(inf.abs().max().item<double>(), 1e-10) << inf;
  // An attribution that is wrong by a constant factor is not: (1 - 2)^2 * E[(I . w)^2] > 0.
  EXPECT_GT(infidelity(model, x, targets, gradient * 2, InfidelityOptions().stdev(0.1)).min().item<double>(), 0);
  // The gradient of a linear model does not move: sensitivity 0.
  const ExplainFunction grad = [&](const at::Tensor& xs, const at::Tensor& ts) { return explain::saliency(model, xs, ts, false); };
  EXPECT_LT(sensitivity_max(grad, x, targets, SensitivityOptions().n_perturb_samples(3)).abs().max().item<double>(), 1e-6);
  // Input x gradient on a linear model is a decomposition of the logit: completeness 0.
  EXPECT_LT(completeness(model, x, targets, x * w).max().item<double>(), 1e-5);
  EXPECT_GT(completeness(model, x, targets, x * w * 1.5).min().item<double>(), 1e-3);
}

TEST(Gini, OfAOneHotAndOfAUniformMap) {
  at::Tensor one_hot = at::zeros({1, 1, 4, 5});
  one_hot[0][0][2][3] = 3.0;
  // Quantus adds 1e-7 to every magnitude; (n - 1) / n for n = 20 up to that.
  EXPECT_NEAR(gini(one_hot).item<double>(), 19.0 / 20.0, 1e-6);
  EXPECT_NEAR(gini(at::full({1, 3, 4, 5}, -2.0)).item<double>(), 0.0, 1e-9);
}

// An "attribution" that ignores the model: the image's Sobel edge magnitude.
at::Tensor edges(const at::Tensor& x) {
  const at::Tensor gray = x.mean(1, true);
  const at::Tensor kx = at::tensor({-1.f, 0.f, 1.f, -2.f, 0.f, 2.f, -1.f, 0.f, 1.f}).view({1, 1, 3, 3});
  const at::Tensor gx = at::conv2d(gray, kx, {}, 1, 1), gy = at::conv2d(gray, kx.transpose(2, 3), {}, 1, 1);
  return (gx * gx + gy * gy).sqrt();
}

const char* const kReference = R"(import sys, torch, torch.nn as nn, numpy as np, scipy.stats as st
from scipy.sparse import lil_matrix, csc_matrix
from scipy.sparse.linalg import spsolve
from skimage.metrics import structural_similarity
d = sys.argv[1]
torch.manual_seed(0)
net = nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 8, 3, padding=1), nn.ReLU(),
                    nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 5)).eval()
torch.jit.script(net).save(d + '/cnn.pt')
B, C, H, W = 3, 3, 12, 12
x = torch.rand(B, C, H, W)
a = torch.randn(B, C, H, W)
a[0, :, :4, :] = 0.5  # ties, broken by index
t = net(x).argmax(1)
def save(name, v): open(d + '/' + name + '.raw', 'wb').write(np.ascontiguousarray(v, dtype=np.float32 if v.dtype != np.int64 else np.int64).tobytes())
save('x', x.numpy()); save('a', a.numpy()); save('t', t.numpy().astype(np.int64))
prob = lambda img, c: torch.softmax(net(img[None]), 1)[0, c].item()

# RISE's deletion and insertion, one sample and one step at a time.
steps, N = 7, H * W
def gkern(klen, nsig):
    k1 = np.diff(st.norm.cdf(np.linspace(-nsig, nsig, klen + 1)))
    k2 = np.outer(k1, k1)
    return torch.tensor(k2 / k2.sum(), dtype=torch.float32)
blur = torch.nn.functional.conv2d(x, gkern(11, 5).expand(C, 1, 11, 11).contiguous(), padding=5, groups=C)
dele, ins = np.zeros((B, steps + 1)), np.zeros((B, steps + 1))
for b in range(B):
    order = np.argsort(-a[b].sum(0).flatten().numpy(), kind='stable')
    for k in range(steps + 1):
        n = k * N // steps
        m = torch.zeros(N, dtype=torch.bool); m[order[:n]] = True; m = m.view(1, H, W)
        dele[b, k] = prob(torch.where(m, torch.zeros_like(x[b]), x[b]), t[b])
        ins[b, k] = prob(torch.where(m, x[b], blur[b]), t[b])
save('deletion', dele); save('insertion', ins)

# ROAD without noise: the paper's linear system, built pixel by pixel, solved by spsolve.
nb = [((1, 1), 1/12), ((0, 1), 1/6), ((-1, 1), 1/12), ((1, -1), 1/12), ((0, -1), 1/6), ((-1, -1), 1/12), ((1, 0), 1/6), ((-1, 0), 1/6)]
def impute(img, removed):
    idx = [p for p in range(N) if removed[p]]
    var = {p: i for i, p in enumerate(idx)}
    A = lil_matrix((len(idx), len(idx))); rhs = np.zeros((len(idx), C)); flat = img.reshape(C, -1).numpy()
    for i, p in enumerate(idx):
        y, xx = divmod(p, W); s = 0.0
        for (dy, dx), w in nb:
            yy, x2 = y + dy, xx + dx
            if 0 <= yy < H and 0 <= x2 < W:
                s += w; q = yy * W + x2
                if q in var: A[i, var[q]] = w
                else: rhs[i] -= w * flat[:, q]
        A[i, i] = -s
    out = flat.copy(); out[:, idx] = spsolve(csc_matrix(A), rhs).reshape(len(idx), C).T
    return torch.tensor(out).view(C, H, W)
pct = [10, 35, 70]
morf, lerf = np.zeros((B, 3)), np.zeros((B, 3))
for b in range(B):
    order = np.argsort(-a[b].sum(0).flatten().numpy(), kind='stable')
    for j, p in enumerate(pct):
        n = int(round(p / 100 * N))
        top = np.zeros(N, bool); top[order[:n]] = True
        low = np.zeros(N, bool); low[order[N - n:]] = True
        morf[b, j] = prob(impute(x[b], top), t[b]); lerf[b, j] = prob(impute(x[b], low), t[b])
save('morf', morf); save('lerf', lerf)

# Captum's infidelity and sensitivity_max formulas, on perturbations drawn here.
n = 4
I = torch.randn(B, n, C, H, W) * 0.05
U = (torch.rand(B, n, C, H, W) * 2 - 1) * 0.02
save('inf_noise', I.numpy()); save('sens_noise', U.numpy())
logit = lambda img, c: net(img[None])[0, c].item()
inf = np.zeros(B)
for b in range(B):
    errs = [((I[b, i] * a[b]).sum().item() - (logit(x[b], t[b]) - logit(x[b] - I[b, i], t[b]))) ** 2 for i in range(n)]
    inf[b] = np.mean(errs)
save('infidelity', inf)
def ixg(img, c):
    img = img.clone().requires_grad_(True)
    net(img[None])[0, c].backward()
    return (img * img.grad).detach()
sens = np.zeros(B)
for b in range(B):
    e0 = ixg(x[b], t[b]); norm = e0.norm().item() or 1.0
    sens[b] = max((ixg(x[b] + U[b, i], t[b]) - e0).norm().item() / norm for i in range(n))
save('sensitivity', sens)

# Quantus's Gini, scipy's Spearman and skimage's SSIM.
g = []
for b in range(B):
    v = np.sort(np.abs(a[b].numpy().flatten().astype(np.float64)) + 1e-7); k = np.arange(1, v.size + 1)
    g.append(np.sum((2 * k - v.size - 1) * v) / (v.size * np.sum(v)))
save('gini', np.array(g))
m1 = np.round(np.abs(a.sum(1).numpy()), 1); m2 = np.round(np.abs(torch.randn(B, H, W).numpy()), 1)
save('map1', m1); save('map2', m2)
scale = lambda m: (m - m.min()) / (m.max() - m.min())
save('spearman', np.array([st.spearmanr(m1[b].flatten(), m2[b].flatten()).correlation for b in range(B)]))
save('ssim', np.array([structural_similarity(scale(m1[b]).astype(np.float64), scale(m2[b]).astype(np.float64), data_range=1.0) for b in range(B)]))
)";

struct Reference {
  std::string dir;
  at::Tensor x, a, targets;
};

const Reference& reference() {
  static const Reference r = [] {
    // One directory per process: ctest runs each test of this file as its own process, side by side.
    const std::string dir = glassbox::testing::scratch_dir("evaluate/" + std::to_string(::getpid()));
    std::ofstream(dir + "/reference.py") << kReference;
    const auto run = glassbox::testing::run_command("/usr/bin/python3 " + dir + "/reference.py " + dir + " 2>&1");
    EXPECT_EQ(run.exit_code, 0) << run.output;
    return Reference{dir, raw_floats(dir + "/x.raw", {3, 3, 12, 12}), raw_floats(dir + "/a.raw", {3, 3, 12, 12}),
                     raw_longs(dir + "/t.raw", {3})};
  }();
  return r;
}

at::Tensor doubles(const std::string& path, at::IntArrayRef shape) { return raw_floats(path, shape).to(at::kDouble); }

TEST(Metrics, EqualTheirDefinitionsReDerivedInPython) {
  const Reference& ref = reference();
  models::TorchScriptClassifier model(ref.dir + "/cnn.pt", {3, 12, 12});
  // perturbations_per_eval 5: the steps of several samples share a pass, and a sample's steps span two.
  const PerturbationCurve del = deletion(model, ref.x, ref.targets, ref.a, PixelFlippingOptions().steps(7), 5);
  EXPECT_LT((del.curve - doubles(ref.dir + "/deletion.raw", {3, 8})).abs().max().item<double>(), 1e-5);
  const PerturbationCurve ins = insertion(model, ref.x, ref.targets, ref.a, PixelFlippingOptions().steps(7), 5);
  EXPECT_LT((ins.curve - doubles(ref.dir + "/insertion.raw", {3, 8})).abs().max().item<double>(), 1e-5);

  const RoadResult road_result = road(model, ref.x, ref.targets, ref.a, RoadOptions().percentages({10, 35, 70}).noise(0), 4);
  EXPECT_LT((road_result.morf - doubles(ref.dir + "/morf.raw", {3, 3})).abs().max().item<double>(), 1e-5);
  EXPECT_LT((road_result.lerf - doubles(ref.dir + "/lerf.raw", {3, 3})).abs().max().item<double>(), 1e-5);
  EXPECT_LT((road_result.combined - ((road_result.lerf - road_result.morf) / 2).mean(1)).abs().max().item<double>(), 1e-12);

  // Captum's perturb_func, fed Python's draws one sample at a time (the order the metric asks in).
  auto feeder = [](at::Tensor noise) {
    auto next = std::make_shared<int64_t>(0);
    return [noise, next](const at::Tensor& copies, at::Generator&) { return noise[(*next)++].view(copies.sizes()).clone(); };
  };
  const at::Tensor I = raw_floats(ref.dir + "/inf_noise.raw", {3, 4, 3, 12, 12});
  const at::Tensor inf = infidelity(model, ref.x, ref.targets, ref.a, InfidelityOptions().n_perturb_samples(4).perturb_func(feeder(I)),
                                    explain::Score::logit, 3);
  const at::Tensor inf_want = doubles(ref.dir + "/infidelity.raw", {3});
  EXPECT_LT(((inf - inf_want).abs() / inf_want.abs()).max().item<double>(), 1e-4) << inf << inf_want;

  const at::Tensor U = raw_floats(ref.dir + "/sens_noise.raw", {3, 4, 3, 12, 12});
  const ExplainFunction ixg = [&](const at::Tensor& xs, const at::Tensor& ts) { return explain::input_x_gradient(model, xs, ts); };
  const at::Tensor sens = sensitivity_max(ixg, ref.x, ref.targets, SensitivityOptions().n_perturb_samples(4).perturb_func(feeder(U)), 3);
  EXPECT_LT((sens - doubles(ref.dir + "/sensitivity.raw", {3})).abs().max().item<double>(), 1e-4) << sens;

  EXPECT_LT((gini(ref.a) - doubles(ref.dir + "/gini.raw", {3})).abs().max().item<double>(), 1e-6);
  const at::Tensor m1 = raw_floats(ref.dir + "/map1.raw", {3, 12, 12}), m2 = raw_floats(ref.dir + "/map2.raw", {3, 12, 12});
  EXPECT_LT((spearman(m1, m2) - doubles(ref.dir + "/spearman.raw", {3})).abs().max().item<double>(), 1e-6);
  EXPECT_LT((ssim(m1, m2) - doubles(ref.dir + "/ssim.raw", {3})).abs().max().item<double>(), 1e-5);
}

TEST(Road, ImputationFillsRemovedPixelsFromTheirNeighboursOnly) {
  // A linear ramp is harmonic for these symmetric weights: removed pixels inside it come back exactly.
  at::Tensor img = (at::arange(8, at::kDouble).view({1, 8}) + at::arange(8, at::kDouble).view({8, 1}) * 0.5).unsqueeze(0).to(at::kFloat);
  at::Tensor removed = at::zeros({8, 8}, at::kBool);
  removed.slice(0, 2, 6).slice(1, 3, 6).fill_(true);
  at::Generator g = at::make_generator<at::CPUGeneratorImpl>(1);
  const at::Tensor out = noisy_linear_imputation(img, removed, 0.0, g);
  EXPECT_LT((out - img).abs().max().item<double>(), 1e-5);
  // Kept pixels are untouched even with noise; imputed ones move by about the noise.
  const at::Tensor noisy = noisy_linear_imputation(img, removed, 0.5, g);
  EXPECT_TRUE(noisy.masked_select(~removed.unsqueeze(0)).equal(img.masked_select(~removed.unsqueeze(0))));
  EXPECT_GT((noisy - img).abs().max().item<double>(), 0.05);
}

TEST(Randomisation, AnEdgeDetectorFailsAndGradCamChangesAndTheModelComesBack) {
  const Reference& ref = reference();
  models::TorchScriptClassifier model(ref.dir + "/cnn.pt", {3, 12, 12});
  std::vector<at::Tensor> before;
  for (const at::Tensor& p : model.parameters()) before.push_back(p.detach().clone());
  const ExplainFunction edge = [](const at::Tensor& xs, const at::Tensor&) { return edges(xs); };
  const RandomisationResult control = model_parameter_randomisation(model, ref.x, ref.targets, edge);
  // Layers from the logits down: the linear head first.
  ASSERT_EQ(control.steps.size(), 3u);
  EXPECT_EQ(control.steps.front(), "7");
  EXPECT_EQ(control.steps.back(), "0");
  EXPECT_LT((control.spearman - 1).abs().max().item<double>(), 1e-9);
  EXPECT_LT((control.ssim - 1).abs().max().item<double>(), 1e-9);
  EXPECT_FALSE(control.passed);
  EXPECT_EQ(control.strip.sizes(), (std::vector<int64_t>{3, 4, 12, 12}));
  const RandomisationResult logit_control = random_logit(model, ref.x, ref.targets, edge);
  EXPECT_LT((logit_control.score - 1).abs().max().item<double>(), 1e-9);

  const ExplainFunction gradcam = [&](const at::Tensor& xs, const at::Tensor& ts) {
    // Without the ReLU: a random head can weigh every channel negatively, and a map of zeros has no rank order.
    return explain::attribute("gradcam", model, xs, ts, explain::AttributeOptions().layer(explain::LayerOptions().layer("4").relu(false)));
  };
  const RandomisationResult cam = model_parameter_randomisation(model, ref.x, ref.targets, gradcam,
                                                                RandomisationOptions().max_steps(1));
  ASSERT_EQ(cam.steps.size(), 1u);
  EXPECT_EQ(cam.steps[0], "7, 3, 0");  // every layer in one step
  const RandomisationResult head = model_parameter_randomisation(model, ref.x, ref.targets, gradcam,
                                                                 RandomisationOptions().order(RandomisationOrder::independent));
  // A new head weighs the channels anew: the map changes (rank correlation well below 1).
  const at::Tensor rho = head.spearman.select(1, 0);
  EXPECT_LT(rho.masked_select(at::isfinite(rho)).mean().item<double>(), 0.9) << head.spearman;
  const std::vector<at::Tensor> after = model.parameters();
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < after.size(); ++i) EXPECT_TRUE(after[i].equal(before[i])) << "parameter " << i;
}

TEST(Metrics, BadInputIsNamed) {
  const Reference& ref = reference();
  models::TorchScriptClassifier model(ref.dir + "/cnn.pt", {3, 12, 12});
  EXPECT_EQ(parameter_of([] { find_metric("accuracy"); }), "metric");
  EXPECT_EQ(parameter_of([&] { deletion(model, ref.x, ref.targets, ref.a, PixelFlippingOptions().steps(0)); }), "steps");
  EXPECT_EQ(parameter_of([&] { check_evaluate_options(EvaluateOptions().road(RoadOptions().percentages({10, 100}))); }), "percentages");
  EXPECT_EQ(parameter_of([&] {
              deletion(model, ref.x, ref.targets, ref.a, PixelFlippingOptions().substitute(at::zeros({3, 5, 5})));
            }),
            "substitute");
  EXPECT_EQ(parameter_of([&] { check_evaluation_request({"layer_ig"}, {"deletion"}, {}); }), "methods");
  EXPECT_EQ(parameter_of([&] { check_evaluation_request({"ig"}, {"deletion", "deletion"}, {}); }), "metrics");
  const std::string shape = glassbox::testing::error_message_of<glassbox::Error>([&] { deletion(model, ref.x, ref.targets, at::zeros({3, 2, 12, 12})); });
  EXPECT_NE(shape.find("do not cover the input"), std::string::npos) << shape;
  const evaluate::EvaluateOptions o;
  const std::string no_method = glassbox::testing::error_message_of<glassbox::Error>([&] {
    find_metric("sensitivity").evaluate({model, ref.x, ref.targets, ref.a, nullptr, nullptr, o});
  });
  EXPECT_NE(no_method.find("needs the method"), std::string::npos) << no_method;
}

}  // namespace
