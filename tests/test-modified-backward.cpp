// The methods that change the backward pass, on TorchScript models (scripted and traced) and on the
// built-in ones. The truth: Captum's definitions re-derived with python3-torch at test time on eager
// copies of the same weights (Guided Backprop and Deconvnet by backward hooks on the ReLU modules, as
// Captum does; DeepLift's Rescale multipliers and LRP's rules layer by layer, written out), and known
// identities: LRP-0 equals Gradient x Input on ReLU networks without biases, relevance is conserved,
// DeepLift's contributions sum to F(x) - F(x0), GradientShap on a linear model is (x - x0) * w.
#include <ATen/ATen.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <gtest/gtest.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <unistd.h>

#include <fstream>
#include <functional>

#include "glassbox/explain/methods.h"
#include "glassbox/explain/modified-backward.h"
#include "glassbox/models/architectures.h"
#include "glassbox/models/torchscript.h"
#include "tensor-files.h"
#include "test-support.h"

using namespace glassbox;
using namespace glassbox::explain;
using glassbox::testing::parameter_of;
using glassbox::testing::raw_floats;
using glassbox::testing::raw_longs;

namespace {

const char* const kReference = R"(import sys, torch, torch.nn as nn, torch.nn.functional as F
from torch.autograd.functional import vjp
from torch.nn.grad import conv2d_input
d = sys.argv[1]
torch.manual_seed(0)
def save(name, t): open(d + '/' + name + '.raw', 'wb').write(t.detach().contiguous().float().numpy().tobytes())

class Cnn(nn.Module):
    def __init__(self, bias=True, inplace=True):
        super().__init__()
        self.c1 = nn.Conv2d(3, 4, 3, padding=1, bias=bias); self.r1 = nn.ReLU(); self.p1 = nn.MaxPool2d(2)
        self.c2 = nn.Conv2d(4, 6, 3, padding=1, bias=bias); self.r2 = nn.ReLU(inplace=inplace); self.p2 = nn.MaxPool2d(2)
        self.flat = nn.Flatten(); self.f1 = nn.Linear(96, 8, bias=bias); self.r3 = nn.ReLU(); self.f2 = nn.Linear(8, 5, bias=bias)
        self.seq = [self.c1, self.r1, self.p1, self.c2, self.r2, self.p2, self.flat, self.f1, self.r3, self.f2]
    def forward(self, x):
        h = self.p1(self.r1(self.c1(x)))
        h = self.p2(self.r2(self.c2(h)))
        return self.f2(self.r3(self.f1(self.flat(h))))

class Grouped(Cnn):  # grouped convolutions: LRP's terms cannot share one call of the layer there
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 6, 3, padding=1, groups=3); self.c2 = nn.Conv2d(6, 6, 3, padding=1, groups=2)
        self.seq = [self.c1, self.r1, self.p1, self.c2, self.r2, self.p2, self.flat, self.f1, self.r3, self.f2]

class SigMlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.flat = nn.Flatten(); self.l1 = nn.Linear(768, 16); self.s = nn.Sigmoid(); self.l2 = nn.Linear(16, 16)
        self.t = nn.Tanh(); self.l3 = nn.Linear(16, 5)
        self.seq = [self.flat, self.l1, self.s, self.l2, self.t, self.l3]
    def forward(self, x):
        return self.l3(self.t(self.l2(self.s(self.l1(self.flat(x))))))

class SoftMlp(nn.Module):  # ends in a softmax: DeepLift's softmax rule inside the graph
    def __init__(self):
        super().__init__()
        self.flat = nn.Flatten(); self.l1 = nn.Linear(768, 16); self.r = nn.ReLU(); self.l2 = nn.Linear(16, 5)
        self.sm = nn.Softmax(dim=1)
        self.seq = [self.flat, self.l1, self.r, self.l2, self.sm]
    def forward(self, x):
        return self.sm(self.l2(self.r(self.l1(self.flat(x)))))

class BnRes(nn.Module):  # conv-BN-relu, conv-BN, += identity, relu, mean pool, linear (a residual block)
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 4, 3, padding=1, bias=False); self.b1 = nn.BatchNorm2d(4)
        self.c2 = nn.Conv2d(4, 4, 3, padding=1, bias=False); self.b2 = nn.BatchNorm2d(4)
        self.pool = nn.AdaptiveAvgPool2d(1); self.fc = nn.Linear(4, 5)
        for b in (self.b1, self.b2):
            b.running_mean.uniform_(-0.2, 0.2); b.running_var.uniform_(0.5, 2.0)
            nn.init.uniform_(b.weight, 0.5, 1.5); nn.init.uniform_(b.bias, -0.1, 0.1)
    def forward(self, x):
        identity = F.relu(self.b1(self.c1(x)))
        out = self.b2(self.c2(identity))
        out += identity
        return self.fc(self.pool(F.relu(out)).flatten(1))

class WithNorm(nn.Module):  # a layer norm: neither DeepLift's nor LRP's rules cover it
    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(3, 2, 3, padding=1); self.n = nn.LayerNorm(512); self.fc = nn.Linear(512, 5)
    def forward(self, x):
        return self.fc(self.n(F.relu(self.c(x)).flatten(1)))

class WithGelu(nn.Module):  # GELU: Guided Backprop's rule is defined for ReLU only
    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(3, 2, 3, padding=1); self.fc = nn.Linear(512, 5)
    def forward(self, x):
        return self.fc(F.gelu(self.c(x)).flatten(1))

x = torch.randn(2, 3, 16, 16); x0 = 0.1 * torch.randn(2, 3, 16, 16); t = torch.tensor([1, 3])
save('x', x); save('x0', x0); open(d + '/t.raw', 'wb').write(t.numpy().tobytes())
cnn = Cnn().eval(); nobias = Cnn(bias=False).eval(); mlp = SigMlp().eval(); bnres = BnRes().eval()
torch.jit.script(cnn).save(d + '/cnn.pt')
torch.jit.trace(cnn, x).save(d + '/cnn-traced.pt')
torch.jit.script(nobias).save(d + '/nobias.pt')
torch.jit.script(mlp).save(d + '/mlp.pt')
torch.jit.script(bnres).save(d + '/bnres.pt')
softmlp = SoftMlp().eval(); torch.jit.script(softmlp).save(d + '/softmlp.pt')
torch.jit.trace(bnres, x).save(d + '/bnres-traced.pt')
torch.jit.script(WithNorm().eval()).save(d + '/withnorm.pt')
torch.jit.script(WithGelu().eval()).save(d + '/withgelu.pt')
ref = Cnn(inplace=False).eval(); ref.load_state_dict(cnn.state_dict())

def hooked(model, rule):  # Captum's GuidedBackprop / Deconvolution: a backward hook on every ReLU
    hs = [m.register_full_backward_hook(lambda m, gi, go: (F.relu(gi[0] if rule == 'guided' else go[0]),))
          for m in model.modules() if isinstance(m, nn.ReLU)]
    xx = x.clone().requires_grad_()
    g, = torch.autograd.grad(model(xx).gather(1, t[:, None]).sum(), xx)
    for h in hs: h.remove()
    return g
save('cnn-guided', hooked(ref, 'guided')); save('cnn-deconvnet', hooked(ref, 'deconvnet'))

def deeplift(layers, x, x0):  # the Rescale rule's multipliers, layer by layer, from the output back
    acts, refs = [x], [x0]
    for L in layers: acts.append(L(acts[-1])); refs.append(L(refs[-1]))
    m = F.one_hot(t, 5).float()
    for L, a, r in reversed(list(zip(layers, acts, refs))):
        dx = a - r
        if isinstance(L, (nn.ReLU, nn.Sigmoid, nn.Tanh)):
            m = torch.where(dx.abs() < 1e-10, vjp(L, a, m)[1], m * (L(a) - L(r)) / dx)
        elif isinstance(L, nn.MaxPool2d):
            y, i = F.max_pool2d(a, 2, return_indices=True); y0, i0 = F.max_pool2d(r, 2, return_indices=True)
            top = torch.max(y, y0)
            u = F.max_unpool2d(m * (top - y0), i, 2, output_size=a.shape[-2:]) + F.max_unpool2d(m * (y - top), i0, 2, output_size=a.shape[-2:])
            m = torch.where(dx.abs() < 1e-10, F.max_unpool2d(m, i, 2, output_size=a.shape[-2:]), u / dx)
        elif isinstance(L, nn.Softmax):  # Captum's softmax rule: Rescale element by element, then centred (per row)
            u = torch.where(dx.abs() < 1e-10, vjp(L, a, m)[1], m * (L(a) - L(r)) / dx)
            m = u - u.mean(1, keepdim=True)
        else:  # affine: the multiplier is the transposed Jacobian's
            m = vjp(L, a, m)[1]
    return (x - x0) * m
with torch.no_grad(): pass
save('cnn-deeplift', deeplift(ref.seq, x, x0)); save('mlp-deeplift', deeplift(mlp.seq, x, x0))
save('softmlp-deeplift', deeplift(softmlp.seq, x, x0)); save('cnn-deeplift-probability', deeplift(ref.seq + [nn.Softmax(dim=1)], x, x0))

def stab(z, e): return z + e * ((z >= 0).float() * 2 - 1)
def layer_relevance(L, a, R, rule, eps=1e-6, gamma=0.25, low=-3.0, high=3.0):
    conv = isinstance(L, nn.Conv2d)
    W, B = L.weight.detach(), (L.bias.detach() if L.bias is not None else None)
    f = (lambda v, w, b: F.conv2d(v, w, b, L.stride, L.padding, L.dilation, L.groups)) if conv else (lambda v, w, b: F.linear(v, w, b))
    back = (lambda v, w, s: conv2d_input(v.shape, w, s, L.stride, L.padding, L.dilation, L.groups)) if conv else (lambda v, w, s: s @ w)
    e = 1e-6
    if rule == 'epsilon': terms, e = [(a, W, B, 1)], eps
    elif rule == 'gamma': terms = [(a, W + gamma * W.clamp(min=0), None if B is None else B + gamma * B.clamp(min=0), 1)]
    elif rule == 'zplus': terms = [(a.clamp(min=0), W.clamp(min=0), None, 1), (a.clamp(max=0), W.clamp(max=0), None, 1)]
    else: terms = [(a, W, B, 1), (torch.full_like(a, low), W.clamp(min=0), None, -1), (torch.full_like(a, high), W.clamp(max=0), None, -1)]
    s = R / stab(sum(sg * f(v, w, b) for v, w, b, sg in terms), e)
    return sum(sg * v * back(v, w, s) for v, w, b, sg in terms)

def lrp(layers, x, rules):  # rules: the rule of each conv/linear layer, in order
    acts = [x]
    for L in layers: acts.append(L(acts[-1]))
    R = F.one_hot(t, 5).float() * acts[-1]
    k = len(rules)
    for L, a in reversed(list(zip(layers, acts))):
        if isinstance(L, (nn.Conv2d, nn.Linear)):
            k -= 1; R = layer_relevance(L, a, R, rules[k])
        elif isinstance(L, nn.MaxPool2d): R = vjp(L, a, R)[1]  # winner takes all
        elif isinstance(L, nn.Flatten): R = R.reshape(a.shape)
    return R
with torch.no_grad():
    save('cnn-lrp-egb', lrp(ref.seq, x, ['zbox', 'gamma', 'epsilon', 'epsilon']))
    save('cnn-lrp-zplus', lrp(ref.seq, x, ['zplus', 'zplus', 'zplus', 'zplus']))
    grouped = Grouped().eval(); torch.jit.script(grouped).save(d + '/grouped.pt')
    save('grouped-lrp-egb', lrp(grouped.seq, x, ['zbox', 'gamma', 'epsilon', 'epsilon']))
    save('grouped-lrp-zplus', lrp(grouped.seq, x, ['zplus', 'zplus', 'zplus', 'zplus']))
    # BnRes: the batch norms folded into their convolutions by hand, the sum split in proportion to its terms.
    def fold(c, b):
        s = b.weight / torch.sqrt(b.running_var + b.eps)
        fc = nn.Conv2d(c.in_channels, c.out_channels, 3, padding=1)
        fc.weight.copy_(c.weight * s[:, None, None, None]); fc.bias.copy_(b.bias - b.running_mean * s)
        return fc
    c1, c2 = fold(bnres.c1, bnres.b1), fold(bnres.c2, bnres.b2)
    a1 = F.relu(c1(x)); z2 = c2(a1); s = z2 + a1; a3 = F.relu(s); p = a3.mean((2, 3)); out = bnres.fc(p)
    save('bnres-logits', out)
    R = layer_relevance(bnres.fc, p, F.one_hot(t, 5).float() * out, 'epsilon')
    R = (R / 256.0)[:, :, None, None].expand_as(a3)  # the mean's gradient: each position an equal share
    q = R / stab(s, 1e-6)
    R1 = a1 * q + layer_relevance(c2, a1, z2 * q, 'gamma')
    save('bnres-lrp-egb', layer_relevance(c1, x, R1, 'zbox'))
)";

struct Reference {
  std::string dir;
  at::Tensor x, x0, t;
};

const Reference& reference() {
  static const Reference r = [] {
    const std::string dir = glassbox::testing::scratch_dir("modified-backward/" + std::to_string(::getpid()));
    std::ofstream(dir + "/reference.py") << kReference;
    const auto run = glassbox::testing::run_command("/usr/bin/python3 " + dir + "/reference.py " + dir + " 2>&1");
    EXPECT_EQ(run.exit_code, 0) << run.output;
    return Reference{dir, raw_floats(dir + "/x.raw", {2, 3, 16, 16}), raw_floats(dir + "/x0.raw", {2, 3, 16, 16}),
                     raw_longs(dir + "/t.raw", {2})};
  }();
  return r;
}

at::Tensor want(const std::string& name) { return raw_floats(reference().dir + "/" + name + ".raw", {2, 3, 16, 16}); }

double relative_error(const at::Tensor& got, const at::Tensor& expected) {
  return ((got - expected).abs().max() / (expected.abs().max() + 1e-12)).item<double>();
}

models::TorchScriptClassifier load(const std::string& name) {
  return models::TorchScriptClassifier(reference().dir + "/" + name + ".pt", {3, 16, 16});
}

}  // namespace

TEST(GuidedBackprop, EqualsCaptumsHooksOnScriptedAndTracedModels) {
  const Reference& ref = reference();
  for (const char* file : {"cnn", "cnn-traced"}) {
    SCOPED_TRACE(file);
    models::TorchScriptClassifier model = load(file);
    const at::Tensor guided = guided_backprop(model, ref.x, ref.t);
    const at::Tensor deconv = deconvnet(model, ref.x, ref.t);
    EXPECT_LT(relative_error(guided, want("cnn-guided")), 1e-5);
    EXPECT_LT(relative_error(deconv, want("cnn-deconvnet")), 1e-5);
    // Not the plain gradient: the rule changed something.
    EXPECT_GT(relative_error(input_gradients(model, ref.x, ref.t).gradients, want("cnn-guided")), 1e-2);
    // The model itself is untouched: its forward and gradient are as before.
    EXPECT_LT(relative_error(model.forward(ref.x), load(file).forward(ref.x)), 1e-6);
  }
}

TEST(GuidedBackprop, OnABuiltInMlpIsTheRuleWrittenOut) {
  // l2(relu(l1 x)): Guided Backprop = W1^T (relu(W2[t]) * [z1 > 0]) (the gradient at relu's output is W2[t]).
  auto model = models::make_model(models::ModelOptions("mlp", {1, 6, 6}, 4).hidden(16));
  auto& mlp = *model;
  const at::Tensor x = at::randn({3, 1, 6, 6});
  const at::Tensor t = at::tensor({0, 2, 3}, at::kLong);
  const auto params = mlp.named_parameters();
  at::Tensor w1, b1, w2;
  for (const auto& [name, p] : params) {
    if (name == "l1.weight") w1 = p.detach();
    if (name == "l1.bias") b1 = p.detach();
    if (name == "l2.weight") w2 = p.detach();
  }
  const at::Tensor z1 = at::linear(x.flatten(1), w1, b1);
  const at::Tensor expected = (at::relu(w2.index_select(0, t)) * (z1 > 0)).matmul(w1).view_as(x);
  EXPECT_LT(relative_error(guided_backprop(mlp, x, t), expected), 1e-5);
  const at::Tensor expected_deconv = at::relu(w2.index_select(0, t)).matmul(w1).view_as(x);
  EXPECT_LT(relative_error(deconvnet(mlp, x, t), expected_deconv), 1e-5);
}

TEST(GuidedGradCam, IsGuidedBackpropTimesTheNearestUpsampledGradCam) {
  const Reference& ref = reference();
  models::TorchScriptClassifier model = load("cnn");
  const AttributeOptions options = AttributeOptions().layer(LayerOptions().layer("c2"));
  const at::Tensor got = attribute("guided_gradcam", model, ref.x, ref.t, options);
  AttributeOptions small = options;
  small.layer().upsample(false);
  const at::Tensor cam = attribute("gradcam", model, ref.x, ref.t, small);
  ASSERT_EQ(cam.sizes(), (std::vector<int64_t>{2, 1, 8, 8}));
  const at::Tensor expected = want("cnn-guided") * cam.repeat_interleave(2, 2).repeat_interleave(2, 3);
  EXPECT_LT(relative_error(got, expected), 1e-5);
}

TEST(DeepLift, EqualsTheRescaleRuleWrittenOutAndSumsToTheDifference) {
  const Reference& ref = reference();
  for (const auto& [file, truth] : std::vector<std::pair<std::string, std::string>>{
           {"cnn", "cnn-deeplift"}, {"cnn-traced", "cnn-deeplift"}, {"mlp", "mlp-deeplift"}}) {
    SCOPED_TRACE(file);
    models::TorchScriptClassifier model = load(file);
    const DeepLiftResult r = deeplift(model, ref.x, ref.t, ref.x0);
    EXPECT_LT(relative_error(r.attributions, want(truth)), 1e-4);
    // Summation to delta: sum of contributions = F(x) - F(x0), to float precision.
    const at::Tensor fx = model.forward(ref.x).gather(1, ref.t.view({-1, 1})).squeeze(1);
    const at::Tensor f0 = model.forward(ref.x0).gather(1, ref.t.view({-1, 1})).squeeze(1);
    EXPECT_LT((r.attributions.flatten(1).sum(1) - (fx - f0)).abs().max().item<double>(), 1e-4 * (1 + (fx - f0).abs().max().item<double>()));
    EXPECT_LT(r.delta.abs().max().item<double>(), 1e-4 * (1 + (fx - f0).abs().max().item<double>()));
  }
}

TEST(DeepLift, SoftmaxRuleIsCaptumsCentredRescaleInTheGraphAndOnTheProbabilityScore) {
  const Reference& ref = reference();
  models::TorchScriptClassifier softmlp = load("softmlp");
  EXPECT_LT(relative_error(deeplift(softmlp, ref.x, ref.t, ref.x0).attributions, want("softmlp-deeplift")), 1e-4);
  models::TorchScriptClassifier cnn = load("cnn");
  const at::Tensor probability = deeplift(cnn, ref.x, ref.t, ref.x0, Score::probability).attributions;
  EXPECT_LT(relative_error(probability, want("cnn-deeplift-probability")), 1e-4);
  // log_softmax has no rule: refused by the score's name.
  EXPECT_EQ(parameter_of([&] { deeplift(cnn, ref.x, ref.t, ref.x0, Score::log_softmax); }), "score");
  // LRP still refuses a softmax in the graph, by name.
  try {
    attribute("lrp", softmlp, ref.x, ref.t);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("aten::softmax"), std::string::npos) << e.what();
  }
}

TEST(DeepLift, OnTheBuiltInCnnSumsToTheDifferenceAndShapAveragesIt) {
  auto model = models::make_model(models::ModelOptions("cnn", {1, 12, 12}, 3).conv_channels(4).hidden(8));
  const at::Tensor x = at::randn({2, 1, 12, 12});
  const at::Tensor t = at::tensor({0, 2}, at::kLong);
  const at::Tensor refs = at::randn({3, 1, 12, 12}) * 0.5;
  const DeepLiftResult shap = deeplift_shap(*model, x, t, refs);
  at::Tensor mean = at::zeros_like(x);
  for (int64_t k = 0; k < 3; ++k) {
    const DeepLiftResult one = deeplift(*model, x, t, refs[k].unsqueeze(0));
    EXPECT_LT(one.delta.abs().max().item<double>(), 1e-4);
    mean += one.attributions / 3;
  }
  EXPECT_LT(relative_error(shap.attributions, mean), 1e-5);
  // Per-sample sets of references: sample 1 against its own.
  const at::Tensor each = at::stack({refs, refs.flip(0) * 2});
  const DeepLiftResult per = deeplift_shap(*model, x, t, each);
  const DeepLiftResult second = deeplift_shap(*model, x[1].unsqueeze(0), t.narrow(0, 1, 1), refs.flip(0) * 2);
  EXPECT_LT(relative_error(per.attributions[1], second.attributions[0]), 1e-5);
}

TEST(GradientShap, OnALinearModelIsTheDifferenceTimesTheWeights) {
  auto model = models::make_model(models::ModelOptions("logreg", {2, 4, 4}, 3));
  const at::Tensor x = at::randn({2, 2, 4, 4});
  const at::Tensor t = at::tensor({1, 2}, at::kLong);
  at::Tensor w;
  for (const auto& [name, p] : model->named_parameters())
    if (name == "l1.weight") w = p.detach();
  const at::Tensor base = at::randn({1, 2, 4, 4});  // one reference: every point's difference is x - base
  const at::Tensor got = gradient_shap(*model, x, t, base, DeepLiftOptions().n_samples(7));
  const at::Tensor expected = (x - base) * w.index_select(0, t).view_as(x);
  EXPECT_LT(relative_error(got, expected), 1e-5);
  // A sample's result does not depend on its batch.
  const at::Tensor alone = gradient_shap(*model, x[1].unsqueeze(0), t.narrow(0, 1, 1), base, DeepLiftOptions().n_samples(7));
  EXPECT_LT(relative_error(alone[0], got[1]), 1e-6);
}

TEST(Lrp, ZeroRuleOnABiasFreeReluNetworkIsGradientTimesInputAndConserves) {
  const Reference& ref = reference();
  models::TorchScriptClassifier model = load("nobias");
  const LrpResult r = lrp(model, ref.x, ref.t, LrpOptions().composite(LrpComposite::epsilon).epsilon(1e-9));
  const at::Tensor gxi = input_x_gradient(model, ref.x, ref.t);
  EXPECT_LT(relative_error(r.relevance, gxi), 1e-4);
  EXPECT_LT((r.relevance.flatten(1).sum(1) - r.logits).abs().max().item<double>(), 1e-4 * (1 + r.logits.abs().max().item<double>()));
  // The built-in cnn with its biases zeroed: the same identity.
  auto builtin = models::make_model(models::ModelOptions("cnn", {3, 16, 16}, 5).conv_channels(4).hidden(8));
  for (const auto& [name, p] : builtin->named_parameters())
    if (name.find("bias") != std::string::npos) p.detach().zero_();
  const LrpResult b = lrp(*builtin, ref.x, ref.t, LrpOptions().composite(LrpComposite::epsilon).epsilon(1e-9));
  EXPECT_LT(relative_error(b.relevance, input_x_gradient(*builtin, ref.x, ref.t)), 1e-4);
}

TEST(Lrp, CompositesEqualTheRulesWrittenOut) {
  const Reference& ref = reference();
  // "grouped": grouped convolutions, where each rule's terms run as separate calls of the layer (elsewhere
  // they are stacked into one call).
  for (const auto& [file, truth] : std::vector<std::pair<std::string, std::string>>{
           {"cnn", "cnn"}, {"cnn-traced", "cnn"}, {"grouped", "grouped"}}) {
    SCOPED_TRACE(file);
    models::TorchScriptClassifier model = load(file);
    const LrpOptions box = LrpOptions().composite(LrpComposite::epsilon_gamma_box).low({-3.0}).high({3.0});
    EXPECT_LT(relative_error(lrp(model, ref.x, ref.t, box).relevance, want(truth + "-lrp-egb")), 1e-4);
    const LrpOptions plus = LrpOptions().composite(LrpComposite::zplus);
    EXPECT_LT(relative_error(lrp(model, ref.x, ref.t, plus).relevance, want(truth + "-lrp-zplus")), 1e-4);
  }
}

TEST(Lrp, MergesBatchNormsAndSplitsResidualSums) {
  const Reference& ref = reference();
  const at::Tensor logits = raw_floats(ref.dir + "/bnres-logits.raw", {2, 5});
  for (const char* file : {"bnres", "bnres-traced"}) {
    SCOPED_TRACE(file);
    models::TorchScriptClassifier model = load(file);
    EXPECT_LT(relative_error(model.forward(ref.x), logits), 1e-5);
    const LrpOptions box = LrpOptions().composite(LrpComposite::epsilon_gamma_box).low({-3.0}).high({3.0});
    // 1e-3: the merged weights differ from Python's folding by rounding, which sums near zero amplify.
    EXPECT_LT(relative_error(lrp(model, ref.x, ref.t, box).relevance, want("bnres-lrp-egb")), 1e-3);
    // The model still runs its own batch norms.
    EXPECT_LT(relative_error(model.forward(ref.x), logits), 1e-5);
  }
}

TEST(ModifiedBackward, AnOperationTheRulesDoNotCoverIsAnErrorNamingIt) {
  const Reference& ref = reference();
  models::TorchScriptClassifier norm = load("withnorm");
  for (const char* method : {"deeplift", "lrp"}) {
    SCOPED_TRACE(method);
    try {
      attribute(method, norm, ref.x, ref.t);
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      EXPECT_EQ(e.parameter(), "method");
      EXPECT_NE(std::string(e.what()).find("aten::layer_norm"), std::string::npos) << e.what();
    }
  }
  // Guided Backprop keeps the gradient elsewhere (Captum's definition), so a layer norm is fine ...
  EXPECT_EQ(attribute("guided_backprop", norm, ref.x, ref.t).sizes(), ref.x.sizes());
  // ... but its ReLU rule is not GELU's.
  models::TorchScriptClassifier gelu = load("withgelu");
  try {
    attribute("guided_backprop", gelu, ref.x, ref.t);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("aten::gelu"), std::string::npos) << e.what();
  }
  // DeepLift's Rescale rule covers GELU.
  EXPECT_LT(deeplift(gelu, ref.x, ref.t, ref.x0).delta.abs().max().item<double>(), 1e-3);
}

TEST(ModifiedBackward, EveryNewMethodRunsThroughTheRegistry) {
  const Reference& ref = reference();
  models::TorchScriptClassifier model = load("bnres");
  AttributeOptions options;
  options.layer().layer("c2");
  for (const char* method : {"guided_backprop", "deconvnet", "guided_gradcam", "deeplift", "deeplift_shap", "gradient_shap", "lrp"}) {
    SCOPED_TRACE(method);
    const at::Tensor a = attribute(method, model, ref.x, ref.t, options);
    EXPECT_EQ(a.sizes(), ref.x.sizes());
    EXPECT_TRUE(at::isfinite(a).all().item<bool>());
    EXPECT_GT(a.abs().max().item<double>(), 0);
  }
  EXPECT_EQ(parameter_of([&] { attribute("lrp", model, ref.x, ref.t, AttributeOptions().score(Score::probability)); }), "");
  EXPECT_EQ(parameter_of([&] {
              attribute("lrp", model, ref.x, ref.t, AttributeOptions().lrp(LrpOptions().low({0.0, 1.0})));
            }),
            "");
}

// The CPU kernels (float32 CPU tensors) against the composition of ATen calls that defines each rule and
// runs for every other type: the same operators, called through the dispatcher, in float32 and float64.
TEST(RuleKernels, EqualTheCompositionTheyReplace) {
  auto op = [](const char* name) { return c10::Dispatcher::singleton().findSchemaOrThrow(name, ""); };
  const auto activation = op("glassbox::activation").typed<at::Tensor(const at::Tensor&, int64_t, double, double, int64_t)>();
  const auto pool = op("glassbox::max_pool2d")
                        .typed<at::Tensor(const at::Tensor&, at::IntArrayRef, at::IntArrayRef, at::IntArrayRef, at::IntArrayRef, bool)>();
  const auto conv = op("glassbox::lrp_conv2d")
                        .typed<at::Tensor(const at::Tensor&, const at::Tensor&, const c10::optional<at::Tensor>&, at::IntArrayRef,
                                          at::IntArrayRef, at::IntArrayRef, int64_t, int64_t, double, double, const at::Tensor&,
                                          const at::Tensor&)>();
  at::manual_seed(5);
  // [inputs; references], a fifth of the references equal to their inputs (the rules' x = x_ref branch).
  const at::Tensor x = at::randn({3, 4, 9, 9}, at::kDouble);
  const at::Tensor both = at::cat({x, at::where(at::rand_like(x) < 0.2, x, at::randn_like(x))});
  auto input_gradient = [](const std::function<at::Tensor(const at::Tensor&)>& f, const at::Tensor& in) {
    torch::autograd::AutoGradMode on(true);
    const at::Tensor leaf = in.detach().requires_grad_(true);
    const at::Tensor out = f(leaf);
    at::manual_seed(7);
    const at::Tensor g = at::randn(out.sizes(), at::kDouble).to(in.scalar_type());  // the same numbers in both types
    return torch::autograd::grad({out}, {leaf}, {g})[0];
  };
  auto expect_kernel_equals_composition = [&](const std::string& what, const std::function<at::Tensor(const at::Tensor&)>& f,
                                              double tolerance = 1e-5) {
    SCOPED_TRACE(what);
    const at::Tensor composed = input_gradient(f, both);
    const at::Tensor kernel = input_gradient(f, both.to(at::kFloat));
    EXPECT_EQ(kernel.scalar_type(), at::kFloat);
    EXPECT_LT(relative_error(kernel.to(at::kDouble), composed), tolerance);
  };
  const int64_t guided = 1, rescale = 4;
  expect_kernel_equals_composition("guided relu", [&](const at::Tensor& v) { return activation.call(v, 0, 0, 0, guided); });
  expect_kernel_equals_composition("rescale relu", [&](const at::Tensor& v) { return activation.call(v, 0, 0, 0, rescale); });
  expect_kernel_equals_composition("rescale hardtanh", [&](const at::Tensor& v) { return activation.call(v, 1, -0.5, 0.5, rescale); });
  expect_kernel_equals_composition("rescale leaky_relu", [&](const at::Tensor& v) { return activation.call(v, 2, 0.1, 0, rescale); });
  expect_kernel_equals_composition("rescale max_pool 2/2", [&](const at::Tensor& v) { return pool.call(v, {2, 2}, {2, 2}, {0, 0}, {1, 1}, false); });
  expect_kernel_equals_composition("rescale max_pool 3/2, overlapping, padded",
                                   [&](const at::Tensor& v) { return pool.call(v, {3, 3}, {2, 2}, {1, 1}, {1, 1}, true); });
  const at::Tensor w = at::randn({5, 4, 3, 3}, at::kDouble), b = at::randn({5}, at::kDouble);
  const at::Tensor low = at::full({}, -3.0, at::kDouble), high = at::full({}, 3.0, at::kDouble);
  // LRP divides by z, which comes near zero: float32's rounding of z, so amplified, is the tolerance.
  for (const auto& [name, rule] : std::vector<std::pair<const char*, int64_t>>{{"epsilon", 1}, {"gamma", 2}, {"zplus", 3}, {"zbox", 4}}) {
    expect_kernel_equals_composition(
        std::string("lrp conv2d ") + name,
        [&, rule = rule](const at::Tensor& v) {
          return conv.call(v, w.to(v.scalar_type()), b.to(v.scalar_type()), {1, 1}, {1, 1}, {1, 1}, 1, rule, 0.01, 0.25,
                           low.to(v.scalar_type()), high.to(v.scalar_type()));
        },
        1e-3);
  }
}
