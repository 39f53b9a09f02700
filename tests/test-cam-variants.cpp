// The CAMs beside Grad-CAM that pytorch-grad-cam and OpenVINO XAI users know (XGrad-CAM, LayerCAM,
// Ablation-CAM, ReciproCAM and, on a vision transformer's tokens, ViT-ReciproCAM), and models whose
// forward returns a tuple, a named tuple or a dict. The truth: each CAM computed in Python by its
// paper's definition with forward hooks (the gradient ones from the hooked activation and gradient, the
// gradient-free ones by hooks that replace the layer's output), on a small CNN and a small torchvision
// VisionTransformer, seeded and scripted by python3-torch at test time.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <fstream>
#include <memory>

#include "glassbox/explain/methods.h"
#include "glassbox/models/model-source.h"
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
from typing import Dict, NamedTuple, Optional, Tuple
from torchvision.models import VisionTransformer
d = sys.argv[1]
torch.manual_seed(0)
cnn = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 12, 3, padding=1), nn.ReLU(),
                    nn.Conv2d(12, 16, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 5))
vit = VisionTransformer(image_size=16, patch_size=4, num_layers=2, num_heads=2, hidden_dim=16, mlp_dim=32, num_classes=5)
for p in vit.parameters():  # torchvision's ViT starts its head at zero: every gradient would be zero
    if p.dim() == 2 and p.abs().sum() == 0:
        torch.nn.init.normal_(p, std=0.5)
nets = {
  'cnn': (cnn, cnn[4], lambda t: t, lambda m, like: m),
  'vit': (vit, vit.encoder.layers.encoder_layer_0,
          lambda t: t[:, 1:, :].reshape(t.size(0), 4, 4, t.size(2)).permute(0, 3, 1, 2),
          lambda m, like: torch.cat([like[:, :1].expand(m.size(0), 1, m.size(1)), m.flatten(2).transpose(1, 2)], 1)),
}
x = torch.rand(2, 3, 16, 16)
open(d + '/x.raw', 'wb').write(x.numpy().tobytes())

def hooked(net, layer, x, t):
    seen = {}
    def hook(m, i, o):
        seen['a'] = o
        o.register_hook(lambda g: seen.__setitem__('g', g))
    h = layer.register_forward_hook(hook)
    logits = net(x)
    logits.gather(1, t[:, None]).sum().backward()
    h.remove()
    return logits.detach(), seen['a'].detach(), seen['g']

def replacing(net, layer, x1, outputs):
    h = layer.register_forward_hook(lambda m, i, o: outputs)
    with torch.no_grad():
        logits = net(x1.expand(outputs.size(0), -1, -1, -1))
    h.remove()
    return logits

kernel = torch.tensor([[1 / 16, 1 / 8, 1 / 16], [1 / 8, 1 / 4, 1 / 8], [1 / 16, 1 / 8, 1 / 16]])
for name, (net, layer, to_map, from_map) in nets.items():
    net.eval()
    torch.jit.script(net).save(d + '/' + name + '.pt')
    t = net(x).argmax(1)
    logits, a, g = hooked(net, layer, x, t)
    A, G = to_map(a), to_map(g)
    cams = {'xgradcam': ((G * A).sum((2, 3), keepdim=True) / (A.sum((2, 3), keepdim=True) + 1e-7) * A).sum(1),
            'layercam': (F.relu(G) * A).sum(1)}
    ablation, recipro = [], []
    for b in range(x.size(0)):
        Ab = A[b:b + 1]
        K, h, w = Ab.shape[1:]
        maps = Ab.repeat(K, 1, 1, 1)
        for k in range(K):
            maps[k, k] = 0
        yk = replacing(net, layer, x[b:b + 1], from_map(maps, a[b:b + 1]))[:, t[b]]
        y = logits[b, t[b]]
        ablation.append(((y - yk) / y).view(K, 1, 1).mul(Ab[0]).sum(0))
        masks = []
        for i in range(h):
            for j in range(w):
                m = torch.zeros(h + 2, w + 2)
                m[i:i + 3, j:j + 3] = kernel
                masks.append(m[1:h + 1, 1:w + 1])
        masked = Ab * torch.stack(masks)[:, None]
        recipro.append(replacing(net, layer, x[b:b + 1], from_map(masked, a[b:b + 1])).softmax(1)[:, t[b]].view(h, w))
    cams['ablationcam'] = torch.stack(ablation)
    cams['reciprocam'] = torch.stack(recipro)
    for method, cam in cams.items():
        up = F.interpolate(F.relu(cam)[:, None], size=(16, 16), mode='bilinear', align_corners=False)
        open(d + '/' + name + '-' + method + '.raw', 'wb').write(up.detach().numpy().tobytes())
    open(d + '/' + name + '-targets.raw', 'wb').write(t.numpy().astype('int64').tobytes())
    open(d + '/' + name + '-logits.raw', 'wb').write(logits.numpy().tobytes())

# Forwards that return more than the logits.
class Outputs(NamedTuple):
    logits: torch.Tensor
    aux_logits: Optional[torch.Tensor]

class Named(nn.Module):  # as Inception-V3 scripted
    def __init__(self):
        super().__init__()
        self.body = cnn
    def forward(self, x) -> Outputs:
        return Outputs(self.body(x), None)

class WithFeatures(nn.Module):  # (features, logits): the features [B, 16] come first
    def __init__(self):
        super().__init__()
        self.features = cnn[:-1]
        self.head = cnn[-1]
    def forward(self, x) -> Tuple[torch.Tensor, torch.Tensor]:
        f = self.features(x)
        return f, self.head(f)

class Keyed(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = cnn[:-1]
        self.head = cnn[-1]
    def forward(self, x) -> Dict[str, torch.Tensor]:
        f = self.features(x)
        return {'embedding': f, 'scores': self.head(f)}

for name, m in {'named': Named(), 'features': WithFeatures(), 'keyed': Keyed()}.items():
    torch.jit.script(m.eval()).save(d + '/' + name + '.pt')
)";

struct Reference {
  std::string dir;
  at::Tensor x;
};

const Reference& reference() {
  static const Reference r = [] {
    // One directory per process: ctest runs each test of this file as its own process, side by side.
    const std::string dir = glassbox::testing::scratch_dir("cam-variants/" + std::to_string(::getpid()));
    std::ofstream(dir + "/reference.py") << kReference;
    const auto run = glassbox::testing::run_command("/usr/bin/python3 " + dir + "/reference.py " + dir + " 2>&1");
    EXPECT_EQ(run.exit_code, 0) << run.output;
    return Reference{dir, raw_floats(dir + "/x.raw", {2, 3, 16, 16})};
  }();
  return r;
}

double max_error(const at::Tensor& got, const at::Tensor& want) { return (got - want).abs().max().item<double>(); }

}  // namespace

TEST(CamVariants, EqualTheirDefinitionsOnACnnAndOnVitTokens) {
  const Reference& ref = reference();
  for (const auto& [name, layer] :
       std::vector<std::pair<std::string, std::string>>{{"cnn", "4"}, {"vit", "encoder.layers.encoder_layer_0"}}) {
    SCOPED_TRACE(name);
    models::TorchScriptClassifier model(ref.dir + "/" + name + ".pt", {3, 16, 16});
    const at::Tensor targets = raw_longs(ref.dir + "/" + name + "-targets.raw", {2});
    // internal_batch_size 5: the gradient-free methods' altered maps go through in several passes.
    const AttributeOptions options = AttributeOptions().layer(LayerOptions().layer(layer).internal_batch_size(5));
    for (const char* method : {"xgradcam", "layercam", "ablationcam", "reciprocam"}) {
      SCOPED_TRACE(method);
      const at::Tensor want = raw_floats(ref.dir + "/" + name + "-" + method + ".raw", {2, 1, 16, 16});
      const at::Tensor got = attribute(method, model, ref.x, targets, options);
      ASSERT_EQ(got.sizes(), want.sizes());
      const double scale = want.abs().max().item<double>();
      EXPECT_GT(scale, 0);  // a map, not the zeros of a layer the scores skip
      EXPECT_LT(max_error(got, want), 1e-5 * (1 + scale));
    }
    // ReciproCAM's values are the target's probabilities (nearly alike here: seeded weights).
    const at::Tensor r = attribute("reciprocam", model, ref.x, targets,
                                   AttributeOptions().layer(LayerOptions().layer(layer).upsample(false)));
    EXPECT_EQ(r.sizes(), (std::vector<int64_t>{2, 1, name == "cnn" ? 8 : 4, name == "cnn" ? 8 : 4}));
    EXPECT_GE(r.min().item<double>(), 0);
    EXPECT_LE(r.max().item<double>(), 1);
    EXPECT_EQ(parameter_of([&] {
                attribute("ablationcam", model, ref.x, targets,
                          AttributeOptions().layer(LayerOptions().layer(layer).internal_batch_size(0)));
              }),
              "internal_batch_size");
  }
}

TEST(ForwardOutputs, TheLogitsOfANamedTupleAreFoundAndSaid) {
  const Reference& ref = reference();
  models::TorchScriptClassifier named(ref.dir + "/named.pt", {3, 16, 16});
  EXPECT_EQ(named.num_classes(), 5);
  EXPECT_EQ(named.logits_source(), "element 0 ('logits') of the named tuple forward returns");
  const at::Tensor want = raw_floats(ref.dir + "/cnn-logits.raw", {2, 5});
  EXPECT_LT(max_error(named.forward(ref.x), want), 1e-5);
  // Layer methods run through the same forward: CAMs of the wrapped network are the plain one's.
  const at::Tensor targets = raw_longs(ref.dir + "/cnn-targets.raw", {2});
  for (const char* method : {"xgradcam", "reciprocam"}) {
    SCOPED_TRACE(method);
    const at::Tensor got = attribute(method, named, ref.x, targets, AttributeOptions().layer(LayerOptions().layer("body.4")));
    EXPECT_LT(max_error(got, raw_floats(ref.dir + "/cnn-" + std::string(method) + ".raw", {2, 1, 16, 16})), 1e-5);
  }
  models::TorchScriptClassifier plain(ref.dir + "/cnn.pt", {3, 16, 16});
  EXPECT_EQ(plain.logits_source(), "");
  EXPECT_EQ(parameter_of([&] {
              models::TorchScriptClassifier(ref.dir + "/cnn.pt", {3, 16, 16}, models::TorchScriptOptions().logits("1"));
            }),
            "logits");
}

TEST(ForwardOutputs, ATupleOrDictIsReadByIndexOrKey) {
  const Reference& ref = reference();
  const at::Tensor want = raw_floats(ref.dir + "/cnn-logits.raw", {2, 5});
  // The first [B, n] tensor is taken unless told: here the features, which is why the choice is said.
  models::TorchScriptClassifier first(ref.dir + "/features.pt", {3, 16, 16});
  EXPECT_EQ(first.num_classes(), 16);
  EXPECT_EQ(first.logits_source(), "element 0 of the tuple forward returns");
  models::TorchScriptClassifier second(ref.dir + "/features.pt", {3, 16, 16}, models::TorchScriptOptions().logits("1"));
  EXPECT_EQ(second.num_classes(), 5);
  EXPECT_LT(max_error(second.forward(ref.x), want), 1e-5);
  models::TorchScriptClassifier keyed(ref.dir + "/keyed.pt", {3, 16, 16}, models::TorchScriptOptions().logits("scores"));
  EXPECT_EQ(keyed.logits_source(), "'scores' of the dict forward returns");
  EXPECT_LT(max_error(keyed.forward(ref.x), want), 1e-5);
  for (const char* wrong : {"2", "nope"})
    EXPECT_EQ(parameter_of([&] {
                models::TorchScriptClassifier(ref.dir + "/features.pt", {3, 16, 16}, models::TorchScriptOptions().logits(wrong));
              }),
              "logits");
  EXPECT_EQ(parameter_of([&] {
              models::TorchScriptClassifier(ref.dir + "/keyed.pt", {3, 16, 16}, models::TorchScriptOptions().logits("nope"));
            }),
            "logits");
  // model.json's "logits" field: the model's own description; an option saying otherwise is refused.
  std::ofstream(ref.dir + "/keyed.json") << R"({"input_shape": [3, 16, 16], "logits": "scores"})";
  models::Model m = models::ModelOpener(models::ModelSource().torchscript(ref.dir + "/keyed.pt")).open();
  EXPECT_EQ(m.network().num_classes(), 5);
  EXPECT_EQ(parameter_of([&] {
              models::ModelOpener(models::ModelSource().torchscript(ref.dir + "/keyed.pt")
                                      .torchscript_options(models::TorchScriptOptions().logits("embedding")));
            }),
            "logits");
}
