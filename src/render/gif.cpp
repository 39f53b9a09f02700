#include "glassbox/render/gif.h"

#include <gif_lib.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <numeric>

#include "glassbox/util/error.h"

namespace glassbox::render {
namespace {

int append_output(GifFileType* gif, const GifByteType* bytes, int size) {
  static_cast<std::string*>(gif->UserData)->append(reinterpret_cast<const char*>(bytes), static_cast<size_t>(size));
  return size;
}

int bin_of(const uint8_t* p) { return ((p[0] >> 3) << 10) | ((p[1] >> 3) << 5) | (p[2] >> 3); }

}  // namespace

std::string encode_gif(const std::vector<RgbImage>& frames, int delay_cs, int last_delay_cs) {
  GLASSBOX_CHECK(!frames.empty(), "gif: no frames");
  const int w = frames[0].width, h = frames[0].height;
  GLASSBOX_CHECK(w > 0 && h > 0 && w < 65536 && h < 65536, "gif: frame size ", w, "x", h, " out of range");
  for (const RgbImage& f : frames)
    GLASSBOX_CHECK(f.width == w && f.height == h && f.pixels.size() == size_t(w) * h * 3, "gif: frames differ in size");

  // Palette: the 256 most frequent 15-bit colours (exact colours stay exact when there are few).
  std::vector<uint64_t> counts(1 << 15, 0);
  std::vector<std::array<uint32_t, 3>> sums(1 << 15, {0, 0, 0});
  for (const RgbImage& f : frames)
    for (size_t i = 0; i < f.pixels.size(); i += 3) {
      const int b = bin_of(&f.pixels[i]);
      ++counts[b];
      for (int k = 0; k < 3; ++k) sums[b][k] += f.pixels[i + k];
    }
  std::vector<int> bins(1 << 15);
  std::iota(bins.begin(), bins.end(), 0);
  const size_t used = static_cast<size_t>(std::count_if(counts.begin(), counts.end(), [](uint64_t c) { return c > 0; }));
  const size_t n_colors = std::min<size_t>(256, used);
  std::partial_sort(bins.begin(), bins.begin() + static_cast<long>(n_colors), bins.end(),
                    [&](int a, int b) { return counts[a] > counts[b]; });
  std::vector<GifColorType> palette(256, GifColorType{0, 0, 0});
  for (size_t i = 0; i < n_colors; ++i) {
    const int b = bins[i];
    for (int k = 0; k < 3; ++k) {
      const auto mean = static_cast<GifByteType>(sums[b][k] / counts[b]);
      (k == 0 ? palette[i].Red : k == 1 ? palette[i].Green : palette[i].Blue) = mean;
    }
  }
  // Each 15-bit bin maps to its nearest palette entry, found once.
  std::vector<int16_t> nearest(1 << 15, -1);
  auto index_of = [&](const uint8_t* p) {
    const int b = bin_of(p);
    if (nearest[b] < 0) {
      int best = 0;
      long best_d = -1;
      for (size_t i = 0; i < n_colors; ++i) {
        const long dr = long(palette[i].Red) - p[0], dg = long(palette[i].Green) - p[1], db = long(palette[i].Blue) - p[2];
        const long d = dr * dr + dg * dg + db * db;
        if (best_d < 0 || d < best_d) best_d = d, best = static_cast<int>(i);
      }
      nearest[b] = static_cast<int16_t>(best);
    }
    return static_cast<GifByteType>(nearest[b]);
  };

  std::string out;
  int error = 0;
  GifFileType* gif = EGifOpen(&out, append_output, &error);
  GLASSBOX_CHECK(gif != nullptr, "gif: cannot open the encoder (", GifErrorString(error), ")");
  ColorMapObject* map = GifMakeMapObject(256, palette.data());
  auto fail = [&](const char* what) {
    const int code = gif->Error;
    GifFreeMapObject(map);
    EGifCloseFile(gif, &error);
    throw Error(std::string("gif: ") + what + " failed (" + GifErrorString(code) + ")");
  };
  EGifSetGifVersion(gif, true);
  if (EGifPutScreenDesc(gif, w, h, 8, 0, map) == GIF_ERROR) fail("screen descriptor");
  // Loop forever (the NETSCAPE2.0 application extension).
  const GifByteType loop[] = {1, 0, 0};
  if (EGifPutExtensionLeader(gif, APPLICATION_EXT_FUNC_CODE) == GIF_ERROR ||
      EGifPutExtensionBlock(gif, 11, "NETSCAPE2.0") == GIF_ERROR || EGifPutExtensionBlock(gif, 3, loop) == GIF_ERROR ||
      EGifPutExtensionTrailer(gif) == GIF_ERROR)
    fail("loop extension");
  std::vector<GifByteType> line(static_cast<size_t>(w));
  for (size_t f = 0; f < frames.size(); ++f) {
    GraphicsControlBlock gcb{};
    gcb.DisposalMode = DISPOSE_DO_NOT;
    gcb.DelayTime = f + 1 == frames.size() ? last_delay_cs : delay_cs;
    gcb.TransparentColor = NO_TRANSPARENT_COLOR;
    GifByteType ext[4];
    EGifGCBToExtension(&gcb, ext);
    if (EGifPutExtension(gif, GRAPHICS_EXT_FUNC_CODE, 4, ext) == GIF_ERROR) fail("frame delay");
    if (EGifPutImageDesc(gif, 0, 0, w, h, false, nullptr) == GIF_ERROR) fail("frame descriptor");
    const RgbImage& img = frames[f];
    for (int y = 0; y < h; ++y) {
      for (int x = 0; x < w; ++x) line[static_cast<size_t>(x)] = index_of(&img.pixels[(static_cast<size_t>(y) * w + x) * 3]);
      if (EGifPutLine(gif, line.data(), w) == GIF_ERROR) fail("frame data");
    }
  }
  GifFreeMapObject(map);
  GLASSBOX_CHECK(EGifCloseFile(gif, &error) != GIF_ERROR, "gif: closing failed (", GifErrorString(error), ")");
  return out;
}

}  // namespace glassbox::render
