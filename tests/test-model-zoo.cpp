// The architectures deployed today, each exported the three ways people export them: scripted, traced,
// and traced under torch.no_grad() (which records PyTorch's fused inference kernels, among them
// aten::_native_multi_head_attention, which has no derivative). Small seeded torchvision models built by
// python3-torch at test time: a vision transformer, a Swin transformer, a ConvNeXt and an EfficientNet,
// 32 x 32. The truth: the eager module's logits, its input gradients by autograd, and Grad-CAM from
// forward hooks with pytorch-grad-cam's reshape for the family; then every registered method runs on
// every export.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "glassbox/explain/layer-attribution.h"
#include "glassbox/explain/methods.h"
#include "glassbox/models/torchscript.h"
#include "tensor-files.h"
#include "test-support.h"

using namespace glassbox;
using namespace glassbox::explain;
using glassbox::testing::raw_floats;
using glassbox::testing::raw_longs;

namespace {

const char* const kZoo = R"(import sys, warnings, numpy, torch, torch.nn.functional as F
from torchvision.models import VisionTransformer, SwinTransformer
from torchvision.models.convnext import ConvNeXt, CNBlockConfig
from torchvision.models.efficientnet import EfficientNet, MBConvConfig
warnings.filterwarnings('ignore')
d = sys.argv[1]
torch.manual_seed(0)
tokens = lambda t: t[:, 1:, :].reshape(t.size(0), 4, 4, t.size(2)).permute(0, 3, 1, 2)
zoo = {
  'vit': (VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=2, hidden_dim=16, mlp_dim=32,
                            num_classes=5), 'encoder.layers.encoder_layer_1.ln_1', tokens),
  'swin': (SwinTransformer(patch_size=[4, 4], embed_dim=8, depths=[2, 2], num_heads=[1, 2], window_size=[2, 2],
                           num_classes=5), 'features.3', lambda t: t.permute(0, 3, 1, 2)),
  'convnext': (ConvNeXt([CNBlockConfig(8, 16, 1), CNBlockConfig(16, None, 1)], num_classes=5), 'features.3', lambda t: t),
  'efficientnet': (EfficientNet([MBConvConfig(1, 3, 1, 8, 8, 1), MBConvConfig(4, 3, 2, 8, 16, 1),
                                 MBConvConfig(4, 3, 2, 16, 24, 1)], dropout=0.0, num_classes=5), 'features.4', lambda t: t),
}
x = torch.rand(2, 3, 32, 32)
open(d + '/x.raw', 'wb').write(x.numpy().tobytes())
for name, (net, layer, reshape) in zoo.items():
    net.eval()
    for p in net.parameters():  # torchvision's ViT starts its head at zero: every gradient would be zero
        if p.dim() == 2 and p.abs().sum() == 0:
            torch.nn.init.normal_(p, std=0.5)
    torch.jit.script(net).save(f'{d}/{name}-scripted.pt')
    torch.jit.trace(net, x, check_trace=False).save(f'{d}/{name}-traced.pt')
    with torch.no_grad():
        traced = torch.jit.trace(net, x, check_trace=False)
    traced.save(f'{d}/{name}-traced-no_grad.pt')
    fused = 'aten::_native_multi_head_attention' in str(traced.inlined_graph)
    open(f'{d}/{name}-fused.txt', 'w').write(str(int(fused)))
    seen = {}
    def hook(m, i, o):
        seen['a'] = o
        o.register_hook(lambda g: seen.__setitem__('g', g))
    dict(net.named_modules())[layer].register_forward_hook(hook)
    xx = x.clone().requires_grad_(True)
    logits = net(xx)
    t = logits.argmax(1)
    logits.gather(1, t[:, None]).sum().backward()
    A, G = reshape(seen['a'].detach()), reshape(seen['g'])
    cam = F.interpolate(F.relu((G.mean((2, 3), keepdim=True) * A).sum(1))[:, None], size=(32, 32), mode='bilinear',
                        align_corners=False)
    for what, tensor in (('logits', logits.detach()), ('gradients', xx.grad), ('gradcam', cam.detach())):
        open(f'{d}/{name}-{what}.raw', 'wb').write(tensor.numpy().tobytes())
    open(f'{d}/{name}-targets.raw', 'wb').write(t.numpy().astype('int64').tobytes())

# Attention rollout re-derived on the eager vision transformer: each nn.MultiheadAttention's forward
# written out by hand (its weights kept, with their gradients), checked to give the same logits.
vit = zoo['vit'][0]
weights = []
def by_hand(mha):
    def forward(query, key, value, need_weights=True, **kw):
        B, L, E = query.shape
        H = mha.num_heads
        q, k, v = (t.view(B, L, H, E // H).transpose(1, 2)
                   for t in F.linear(query, mha.in_proj_weight, mha.in_proj_bias).chunk(3, -1))
        p = torch.softmax(q @ k.transpose(-2, -1) / (E // H) ** 0.5, -1)
        p.retain_grad()
        weights.append(p)
        return mha.out_proj((p @ v).transpose(1, 2).reshape(B, L, E)), None
    return forward
for m in vit.modules():
    if isinstance(m, torch.nn.MultiheadAttention):
        m.forward = by_hand(m)
logits = vit(x)
assert torch.allclose(logits, torch.from_numpy(numpy.fromfile(d + '/vit-logits.raw', 'float32')).view(2, 5), atol=1e-5)
t = logits.argmax(1)
logits.gather(1, t[:, None]).sum().backward()
I = torch.eye(17).expand(2, 17, 17)
R, G = I, I
for p in weights:
    a = p.detach().mean(1) + I
    R = (a / a.sum(-1, keepdim=True)) @ R
    G = G + (p.grad * p.detach()).clamp(min=0).mean(1) @ G
for what, r in (('rollout', R), ('grad_rollout', G)):
    up = F.interpolate(r[:, 0, 1:].reshape(2, 1, 4, 4), size=(32, 32), mode='bilinear', align_corners=False)
    open(f'{d}/vit-{what}.raw', 'wb').write(up.numpy().tobytes())
)";

double relative_error(const at::Tensor& got, const at::Tensor& want) {
  return (got - want).abs().max().item<double>() / (1e-12 + want.abs().max().item<double>());
}

struct Family {
  const char* name;
  const char* layer;
};
const Family kFamilies[] = {{"vit", "encoder.layers.encoder_layer_1.ln_1"},
                            {"swin", "features.3"},
                            {"convnext", "features.3"},
                            {"efficientnet", "features.4"}};

}  // namespace

TEST(ModelZoo, EveryExportOfEveryFamilyExplainsAsTheEagerModule) {
  const std::string dir = glassbox::testing::scratch_dir("model-zoo");
  std::ofstream(dir + "/zoo.py") << kZoo;
  const auto r = glassbox::testing::run_command("/usr/bin/python3 " + dir + "/zoo.py " + dir + " 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // The no_grad trace of the vision transformer holds the fused kernel: what this test is for.
  EXPECT_EQ(glassbox::read_file(dir + "/vit-fused.txt"), "1");
  const at::Tensor x = raw_floats(dir + "/x.raw", {2, 3, 32, 32});
  for (const Family& f : kFamilies) {
    const std::string base = dir + "/" + f.name;
    const at::Tensor targets = raw_longs(base + "-targets.raw", {2});
    const at::Tensor logits = raw_floats(base + "-logits.raw", {2, 5});
    const at::Tensor gradients = raw_floats(base + "-gradients.raw", {2, 3, 32, 32});
    const at::Tensor gradcam = raw_floats(base + "-gradcam.raw", {2, 1, 32, 32});
    for (const char* export_kind : {"scripted", "traced", "traced-no_grad"}) {
      SCOPED_TRACE(std::string(f.name) + "-" + export_kind);
      models::TorchScriptClassifier model(base + "-" + export_kind + ".pt", {3, 32, 32},
                                          models::TorchScriptOptions().isolated_first_load(false));
      EXPECT_LT(relative_error(model.forward(x), logits), 1e-5);
      EXPECT_LT(relative_error(attribute("saliency", model, x, targets, AttributeOptions()), gradients.abs()), 1e-4);
      const AttributeOptions at_layer = AttributeOptions().layer(LayerOptions().layer(f.layer));
      EXPECT_LT(relative_error(attribute("gradcam", model, x, targets, at_layer), gradcam), 1e-4);
      if (std::string(f.name) == "vit")
        for (const char* rollout : {"rollout", "grad_rollout"}) {
          SCOPED_TRACE(rollout);
          const at::Tensor want = raw_floats(base + "-" + rollout + ".raw", {2, 1, 32, 32});
          EXPECT_LT(relative_error(attribute(rollout, model, x, targets, AttributeOptions()), want), 1e-4);
        }
      // Every method runs, with small settings, and gives finite attributions that are not all zero.
      AttributeOptions small = at_layer;
      small.integrated_gradients().n_steps(4);
      small.noise_tunnel().nt_samples(2);
      small.occlusion().window_h(8).window_w(8).stride_h(8).stride_w(8);
      small.perturbation().feature_size(16).n_samples(6).rise_masks(8);  // lime: 6 subsets of the 4 cells
      for (const AttributionMethod* method : attribution_methods()) {
        SCOPED_TRACE(method->name());
        if (method->uses_attention() && std::string(f.name) != "vit") {
          // Attention rollout is for attention modules: refused, by name, where there are none (Swin's
          // windowed attention is its own module, not nn.MultiheadAttention).
          EXPECT_EQ(glassbox::testing::parameter_of([&] { method->attribute({model, x, targets, small}); }), "model");
          continue;
        }
        // None of these families is a ReLU network with only the operations the backward rules cover (GELU,
        // SiLU, layer norms, attention's and squeeze-excitation's products): the methods that change the
        // backward refuse them, naming the operation, rather than fall back to the gradient.
        static const std::set<std::string> rewriting = {"guided_backprop", "deconvnet", "guided_gradcam", "deeplift",
                                                        "deeplift_shap", "lrp"};
        if (rewriting.count(method->name())) {
          try {
            method->attribute({model, x, targets, small});
            ADD_FAILURE() << "not refused";
          } catch (const Error& e) {
            EXPECT_EQ(e.parameter(), "method");
            EXPECT_NE(std::string(e.what()).find("the model's aten::"), std::string::npos) << e.what();
          }
          continue;
        }
        at::Tensor a;
        ASSERT_NO_THROW(a = method->attribute({model, x, targets, small}));
        EXPECT_TRUE(at::isfinite(a).all().item<bool>());
        EXPECT_GT(a.abs().max().item<double>(), 0);
      }
    }
  }
}
