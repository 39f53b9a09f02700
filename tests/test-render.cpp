// Drawing: colormaps against their published anchor colours, figures decoded back with libpng, GIFs
// decoded back with giflib, and the seed's figure data against the analytic gradients of a linear model.
#include <ATen/ATen.h>
#include <gif_lib.h>
#include <gtest/gtest.h>
#include <png.h>

#include <cstring>

#include "glassbox/explain/figures.h"
#include "glassbox/models/architectures.h"
#include "glassbox/render/colormap.h"
#include "glassbox/render/figure.h"
#include "glassbox/render/gif.h"
#include "glassbox/util/error.h"
#include "test-support.h"

using namespace glassbox;
using namespace glassbox::render;

namespace {

RgbImage decode_png(const std::string& bytes) {
  RgbImage out;
  out.pixels = glassbox::testing::decode_png(bytes, out.width, out.height);
  return out;
}

size_t count_color(const RgbImage& img, std::array<uint8_t, 3> c) {
  size_t n = 0;
  for (size_t i = 0; i < img.pixels.size(); i += 3)
    n += img.pixels[i] == c[0] && img.pixels[i + 1] == c[1] && img.pixels[i + 2] == c[2];
  return n;
}

struct GifReadState {
  const std::string* bytes;
  size_t pos = 0;
};

int read_gif_bytes(GifFileType* gif, GifByteType* out, int n) {
  auto* s = static_cast<GifReadState*>(gif->UserData);
  const int take = static_cast<int>(std::min<size_t>(n, s->bytes->size() - s->pos));
  std::memcpy(out, s->bytes->data() + s->pos, static_cast<size_t>(take));
  s->pos += static_cast<size_t>(take);
  return take;
}

}  // namespace

TEST(Colormap, PublishedAnchorsAndCentre) {
  EXPECT_EQ(color_at(Colormap::viridis, 0.0), (std::array<uint8_t, 3>{0x44, 0x01, 0x54}));
  EXPECT_EQ(color_at(Colormap::viridis, 1.0), (std::array<uint8_t, 3>{0xFD, 0xE7, 0x25}));
  EXPECT_EQ(color_at(Colormap::diverging, 0.5), (std::array<uint8_t, 3>{0xF7, 0xF7, 0xF7}));  // 0: no ink change
  const auto low = color_at(Colormap::diverging, 0.0), high = color_at(Colormap::diverging, 1.0);
  EXPECT_GT(low[2], low[0]);    // negative: blue
  EXPECT_GT(high[0], high[2]);  // positive: red
  EXPECT_EQ(color_at(Colormap::gray, 0.5), (std::array<uint8_t, 3>{128, 128, 128}));
  EXPECT_EQ(color_at(Colormap::viridis, std::nan("")), color_at(Colormap::viridis, 0.0));
}

TEST(Figure, PanelsDrawTheirPixelsThroughTheColormap) {
  Figure fig(1, 2, FigureOptions().panel_size(40));
  Panel& a = fig.at(0, 0);
  a.title = "left";
  a.image = Plane{1, 2, 2, {0, 0, 1, 1}};  // top row low, bottom row high
  Panel& b = fig.at(0, 1);
  b.image = Plane{1, 2, 2, {-2, 1, 0, 0}};
  b.colormap = Colormap::diverging;
  b.symmetric = true;
  double lo, hi;
  panel_limits(b, lo, hi);
  EXPECT_EQ(lo, -2);
  EXPECT_EQ(hi, 2);
  const RgbImage img = decode_png(fig.to_png());
  const RgbImage direct = fig.render();
  EXPECT_EQ(img.width, direct.width);
  EXPECT_EQ(img.pixels, direct.pixels);
  // Nearest-neighbour scaling: each data pixel becomes a 20x20 block of exactly its colour.
  EXPECT_GE(count_color(img, color_at(Colormap::viridis, 0.0)), 2u * 400u);
  EXPECT_GE(count_color(img, color_at(Colormap::viridis, 1.0)), 2u * 400u);
  EXPECT_GE(count_color(img, color_at(Colormap::diverging, 0.0)), 400u);   // -2
  EXPECT_GE(count_color(img, color_at(Colormap::diverging, 0.75)), 400u);  // +1 of +-2
  EXPECT_GE(count_color(img, color_at(Colormap::diverging, 0.5)), 2u * 400u);
}

TEST(Figure, RgbPanelsOverlaysAndFlatData) {
  Figure fig(1, 2, FigureOptions().panel_size(20).title("rgb"));
  fig.at(0, 0).image = Plane{3, 1, 1, {1.0f, 0.0f, 0.0f}};
  fig.at(0, 1).image = Plane{1, 1, 2, {0.5f, 0.5f}};  // flat: still draws
  fig.at(0, 1).overlay = Plane{1, 1, 2, {0.0f, 1.0f}};
  const RgbImage img = fig.render();
  EXPECT_GE(count_color(img, {255, 0, 0}), 400u);
  EXPECT_THROW(fig.at(1, 0), glassbox::Error);
}

TEST(Gif, DecodesToItsFramesWithLoopAndDelays) {
  std::vector<RgbImage> frames;
  for (int f = 0; f < 3; ++f) {
    RgbImage img;
    img.width = 4;
    img.height = 2;
    for (int i = 0; i < 8; ++i) {
      const uint8_t v = static_cast<uint8_t>((i + f) % 2 ? 255 : 0);
      img.pixels.insert(img.pixels.end(), {v, static_cast<uint8_t>(f * 100), 0});
    }
    frames.push_back(img);
  }
  const std::string bytes = encode_gif(frames, 10, 50);
  ASSERT_EQ(bytes.rfind("GIF89a", 0), 0u);
  GifReadState state{&bytes};
  int error = 0;
  GifFileType* gif = DGifOpen(&state, read_gif_bytes, &error);
  ASSERT_NE(gif, nullptr);
  ASSERT_EQ(DGifSlurp(gif), GIF_OK);
  EXPECT_EQ(gif->SWidth, 4);
  EXPECT_EQ(gif->SHeight, 2);
  ASSERT_EQ(gif->ImageCount, 3);
  for (int f = 0; f < 3; ++f) {
    GraphicsControlBlock gcb;
    ASSERT_EQ(DGifSavedExtensionToGCB(gif, f, &gcb), GIF_OK);
    EXPECT_EQ(gcb.DelayTime, f == 2 ? 50 : 10);
    const SavedImage& img = gif->SavedImages[f];
    for (int i = 0; i < 8; ++i) {
      const GifColorType c = gif->SColorMap->Colors[img.RasterBits[i]];
      EXPECT_EQ(c.Red, frames[f].pixels[3 * i]) << f << " " << i;  // few colours: exact
      EXPECT_EQ(c.Green, frames[f].pixels[3 * i + 1]);
    }
  }
  bool loops = false;
  for (int i = 0; i < gif->SavedImages[0].ExtensionBlockCount; ++i) {
    const ExtensionBlock& e = gif->SavedImages[0].ExtensionBlocks[i];
    loops = loops || (e.ByteCount == 11 && std::memcmp(e.Bytes, "NETSCAPE2.0", 11) == 0);
  }
  EXPECT_TRUE(loops);
  DGifCloseFile(gif, &error);
  EXPECT_THROW(encode_gif({}), glassbox::Error);
}

TEST(SeedFigure, DataMatchTheLinearModelsAnalyticGradients) {
  torch::manual_seed(2);
  auto m = models::make_model(models::ModelOptions("logreg", {1, 4, 4}, 3));
  const at::Tensor x = at::rand({2, 1, 4, 4});
  const at::Tensor a = at::tensor({0L, 2L}), b = at::tensor({1L, 0L});
  const auto figs = explain::confusion_figure_data(*m, {}, x, at::tensor({0L, 1L}), a, b, 3.0);
  ASSERT_EQ(figs.size(), 2u);
  const at::Tensor W = m->parameters()[0].detach();
  for (int i = 0; i < 2; ++i) {
    const auto& d = figs[static_cast<size_t>(i)];
    EXPECT_TRUE(at::allclose(d.grad_a, W[a[i].item<int64_t>()].view({1, 4, 4}), 1e-6, 1e-7));
    EXPECT_TRUE(at::allclose(d.grad_b, W[b[i].item<int64_t>()].view({1, 4, 4}), 1e-6, 1e-7));
    const at::Tensor proj = (x[i] + 3.0 * W[a[i].item<int64_t>()].view({1, 4, 4})).clamp(0, 1);
    EXPECT_TRUE(at::allclose(d.proj_a, proj, 1e-6, 1e-7));
    EXPECT_EQ(d.pred_a, m->forward(proj.unsqueeze(0)).argmax(1).item<int64_t>());
    const at::Tensor p = at::softmax(m->forward(x.narrow(0, i, 1)).to(at::kDouble), 1)[0];
    EXPECT_NEAR(d.prob_a, p[d.class_a].item<double>(), 1e-9);
    EXPECT_FALSE(d.vanished);
  }
  const RgbImage img = decode_png(explain::render_confusion_figure(figs[0], 60));
  EXPECT_GT(img.width, 3 * 60);
  EXPECT_GT(img.height, 2 * 60);
}
