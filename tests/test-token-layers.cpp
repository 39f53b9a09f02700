// Transformer layers read as maps: a vision transformer's tokens [B, 1 + h * w, C] and a Swin
// transformer's channels-last [B, h, w, C] become [B, C, h, w] for CAMs, from their shapes or as stated.
// The truth: the readings of known shapes, and Grad-CAM and HiResCAM computed in Python with forward
// hooks and pytorch-grad-cam's reshape_transform on torchvision's VisionTransformer and SwinTransformer
// (small, seeded, built by python3-torch at test time), against glassbox on the scripted modules.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cstring>
#include <fstream>
#include <memory>

#include "glassbox/explain/explanation.h"
#include "glassbox/explain/layer-listing.h"
#include "glassbox/explain/layer-map.h"
#include "glassbox/explain/methods.h"
#include "glassbox/models/torchscript.h"
#include "glassbox/util/file-bytes.h"
#include "tensor-files.h"
#include "test-support.h"

using namespace glassbox;
using namespace glassbox::explain;
using glassbox::testing::parameter_of;
using glassbox::testing::raw_floats;

namespace {

MapReading read(std::vector<int64_t> sizes, int64_t input, LayerOptions o = {}) {
  return read_as_map(sizes, o, input, input, "l");
}

}  // namespace

TEST(TokenLayers, ReadFromTheirShapes) {
  // ViT-B/16 at 224: a class token and 14 x 14 patches; DeiT's distillation token makes two.
  MapReading m = read({1, 197, 768}, 224);
  EXPECT_EQ(m.layout, LayerLayout::tokens);
  EXPECT_EQ(m.prefix_tokens, 1);
  EXPECT_EQ(m.height, 14);
  EXPECT_EQ(m.width, 14);
  EXPECT_EQ(m.channels, 768);
  EXPECT_EQ(m.describe({1, 197, 768}), "[1, 197, 768] read as 1 class token + 14 x 14 tokens of 768 channels");
  EXPECT_EQ(read({1, 198, 768}, 224).prefix_tokens, 2);
  EXPECT_EQ(read({1, 196, 768}, 224).prefix_tokens, 0);
  // Swin-T's last stage at 224: [1, 7, 7, 768] is channels last; a convolution's [1, 2048, 8, 8] (Inception
  // at 299) and an ambiguous cube stay channels first.
  m = read({1, 7, 7, 768}, 224);
  EXPECT_EQ(m.layout, LayerLayout::channels_last);
  EXPECT_EQ(m.channels, 768);
  EXPECT_EQ(read({1, 2048, 8, 8}, 299).layout, LayerLayout::channels_first);
  EXPECT_EQ(read({1, 7, 7, 7}, 224).layout, LayerLayout::channels_first);
  // A non-square input: its grid has the input's aspect ratio.
  m = read_as_map({2, 1 + 12 * 16, 64}, {}, 192, 256, "l");
  EXPECT_EQ(m.height, 12);
  EXPECT_EQ(m.width, 16);
  // Stated: what the shape cannot say.
  EXPECT_EQ(read({1, 7, 7, 7}, 224, LayerOptions().layout(LayerLayout::channels_last)).layout, LayerLayout::channels_last);
  EXPECT_EQ(read({1, 201, 768}, 224, LayerOptions().prefix_tokens(5)).prefix_tokens, 5);  // 1 class + 4 registers
  EXPECT_EQ(parameter_of([] { read({1, 197, 768}, 224, LayerOptions().prefix_tokens(0)); }), "layer");
  EXPECT_EQ(parameter_of([] { read({1, 768}, 224); }), "layer");
  EXPECT_EQ(parameter_of([] { read({1, 197, 768}, 224, LayerOptions().layout(LayerLayout::channels_first)); }), "layer");
  EXPECT_EQ(parameter_of([] { read({1, 1000, 768}, 224); }), "layer");  // no prefix of 0..8 leaves a square
  // The map of tokens: the prefix dropped, patches row by row, channels first.
  const at::Tensor t = at::arange(2 * 5 * 3, at::kFloat).reshape({2, 5, 3});
  const at::Tensor map = to_map(t, read({2, 5, 3}, 32));
  ASSERT_EQ(map.sizes(), (std::vector<int64_t>{2, 3, 2, 2}));
  EXPECT_EQ(map[1][2][1][0].item<float>(), t[1][1 + 2][2].item<float>());  // row 1, column 0: patch 2
}

TEST(TokenLayers, CamsOnVitAndSwinEqualHooksWithTheSameReshape) {
  const std::string dir = glassbox::testing::scratch_dir("token-layers");
  {
    std::ofstream(dir + "/reference.py") << R"(import sys, torch, torch.nn.functional as F
from torchvision.models import VisionTransformer, SwinTransformer
d = sys.argv[1]
torch.manual_seed(0)
nets = {
  'vit': (VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=2, hidden_dim=16, mlp_dim=32,
                            num_classes=5), 'encoder.layers.encoder_layer_1.ln_1',
          lambda t: t[:, 1:, :].reshape(t.size(0), 4, 4, t.size(2)).permute(0, 3, 1, 2)),
  'swin': (SwinTransformer(patch_size=[4, 4], embed_dim=8, depths=[2, 2], num_heads=[1, 2], window_size=[2, 2],
                           num_classes=5), 'features.3', lambda t: t.permute(0, 3, 1, 2)),
}
x = torch.rand(3, 3, 32, 32)
open(d + '/x.raw', 'wb').write(x.numpy().tobytes())
for name, (net, layer, reshape) in nets.items():
    net.eval()
    for p in net.parameters():  # torchvision's ViT starts its head at zero: every gradient would be zero
        if p.dim() == 2 and p.abs().sum() == 0:
            torch.nn.init.normal_(p, std=0.5)
    torch.jit.script(net).save(d + '/' + name + '.pt')
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
    cams = {'gradcam': (G.mean((2, 3), keepdim=True) * A).sum(1), 'hirescam': (G * A).sum(1)}
    for method, cam in cams.items():
        up = F.interpolate(F.relu(cam)[:, None], size=(32, 32), mode='bilinear', align_corners=False)
        open(d + '/' + name + '-' + method + '.raw', 'wb').write(up.detach().numpy().tobytes())
    open(d + '/' + name + '-targets.raw', 'wb').write(t.numpy().astype('int64').tobytes())
)";
  }
  const auto r = glassbox::testing::run_command("/usr/bin/python3 " + dir + "/reference.py " + dir + " 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const at::Tensor x = raw_floats(dir + "/x.raw", {3, 3, 32, 32});
  for (const auto& [name, layer] : std::vector<std::pair<std::string, std::string>>{
           {"vit", "encoder.layers.encoder_layer_1.ln_1"}, {"swin", "features.3"}}) {
    SCOPED_TRACE(name);
    models::TorchScriptClassifier model(dir + "/" + name + ".pt", {3, 32, 32});
    const at::Tensor targets = glassbox::testing::raw_longs(dir + "/" + name + "-targets.raw", {3});
    const AttributeOptions options = AttributeOptions().layer(LayerOptions().layer(layer));
    for (const char* method : {"gradcam", "hirescam"}) {
      SCOPED_TRACE(method);
      const at::Tensor want = raw_floats(dir + "/" + name + "-" + method + ".raw", {3, 1, 32, 32});
      const at::Tensor got = attribute(method, model, x, targets, options);
      ASSERT_EQ(got.sizes(), want.sizes());
      EXPECT_GT(want.abs().max().item<double>(), 0);  // a map, not the zeros of a layer the scores skip
      EXPECT_LT((got - want).abs().max().item<double>(), 1e-5 * (1 + want.abs().max().item<double>()));
    }
    // Layer methods other than CAMs keep the layer's own shape; an explanation reads them as a map too,
    // to draw them, and says how.
    const at::Tensor gxa = attribute("layer_gxa", model, x, targets, options);
    EXPECT_EQ(gxa.dim(), name == "vit" ? 3 : 4);
    const models::Model wrapped(std::make_unique<models::TorchScriptClassifier>(dir + "/" + name + ".pt", models::InputShape{3, 32, 32}),
                                models::InputSpec());
    const Explanation e = explain_batch(wrapped, x, find_attribution_method("layer_gxa"),
                                        ExplainOptions().target(parse_target("top")).attribute(options));
    ASSERT_EQ(e.attribution_map.sizes(), (std::vector<int64_t>{3, 16, 4, 4}));
    EXPECT_TRUE(e.reshaped);
    EXPECT_NE(e.layer_reading.find(name == "vit" ? "1 class token + 4 x 4 tokens" : "4 x 4 x 16 (channels last)"),
              std::string::npos) << e.layer_reading;
    // The listing says how CAMs read the layer.
    for (const auto& l : nlohmann::json::parse(layers_json(model))["layers"])
      if (l["name"] == layer)
        EXPECT_EQ(l["map"], name == "vit" ? "read as 1 class token + 4 x 4 tokens of 16 channels"
                                          : "read as 4 x 4 x 16 (channels last)");
    const at::Tensor patches = name == "vit" ? e.attributions.narrow(1, 1, 16) : e.attributions;
    EXPECT_NEAR(e.attribution_map.sum().item<double>(), patches.sum().item<double>(), 1e-4);
  }
}
