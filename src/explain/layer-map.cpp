#include "glassbox/explain/layer-map.h"

#include <ATen/ATen.h>

#include <cmath>
#include <sstream>

#include "glassbox/util/enum-names.h"
#include "glassbox/util/error.h"

namespace glassbox::explain {
namespace {

constexpr int64_t kMaxPrefixTokens = 8;  // a class token, a distillation token, registers (DINOv2: 4)

std::string shape_text(c10::IntArrayRef sizes) {
  std::ostringstream out;
  out << sizes;
  return out.str();
}

// Whether an h x w grid has the input's aspect ratio (to within one cell, for sizes rounded by strides).
bool input_aspect(int64_t h, int64_t w, int64_t input_h, int64_t input_w) {
  return h >= 1 && w >= 1 && std::llabs(h * input_w - w * input_h) < std::max(input_h, input_w);
}

// The grid of n tokens with the input's aspect ratio, or {0, 0}.
std::pair<int64_t, int64_t> token_grid(int64_t n, int64_t input_h, int64_t input_w) {
  if (n < 1) return {0, 0};
  const int64_t h = std::llround(std::sqrt(double(n) * double(input_h) / double(input_w)));
  for (int64_t hh = std::max<int64_t>(1, h - 1); hh <= h + 1; ++hh)
    if (n % hh == 0 && input_aspect(hh, n / hh, input_h, input_w)) return {hh, n / hh};
  return {0, 0};
}

const char* prefix_name(int64_t p) {
  return p == 1 ? "class token" : "prefix tokens";
}

const char* const kLayoutNames[] = {"auto", "nchw", "nhwc", "tokens"};  // LayerLayout's order

}  // namespace

std::vector<std::string> layer_layout_names() { return enum_names(kLayoutNames); }
LayerLayout parse_layer_layout(const std::string& name) { return enum_from_name<LayerLayout>(kLayoutNames, name, "layout"); }
const char* layer_layout_name(LayerLayout layout) { return enum_name(kLayoutNames, layout); }

std::string MapReading::describe(c10::IntArrayRef sizes) const {
  std::ostringstream out;
  out << sizes << " read as ";
  switch (layout) {
    case LayerLayout::tokens:
      if (prefix_tokens > 0) out << prefix_tokens << " " << prefix_name(prefix_tokens) << " + ";
      out << height << " x " << width << " tokens of " << channels << " channels";
      break;
    case LayerLayout::channels_last: out << height << " x " << width << " x " << channels << " (channels last)"; break;
    default: out << channels << " channels of " << height << " x " << width; break;
  }
  return out.str();
}

MapReading read_as_map(c10::IntArrayRef s, const LayerOptions& o, int64_t input_h, int64_t input_w, const std::string& layer) {
  MapReading m;
  LayerLayout layout = o.layout();
  if (layout == LayerLayout::automatic) {
    GLASSBOX_CHECK_PARAM(s.size() == 3 || s.size() == 4, "layer", layer, "its output is ", shape_text(s),
                         ", but CAM methods need N x C x H x W, N x H x W x C or N x tokens x C");
    const bool first = s.size() == 4 && input_aspect(s[2], s[3], input_h, input_w);
    const bool last = s.size() == 4 && input_aspect(s[1], s[2], input_h, input_w);
    layout = s.size() == 3 ? LayerLayout::tokens : last && !first ? LayerLayout::channels_last : LayerLayout::channels_first;
  }
  m.layout = layout;
  if (layout == LayerLayout::tokens) {
    GLASSBOX_CHECK_PARAM(s.size() == 3, "layer", layer, "its output is ", shape_text(s), ", but tokens are N x tokens x C");
    for (int64_t p = o.prefix_tokens() >= 0 ? o.prefix_tokens() : 0;
         p <= (o.prefix_tokens() >= 0 ? o.prefix_tokens() : kMaxPrefixTokens) && m.height == 0; ++p) {
      const auto [h, w] = token_grid(s[1] - p, input_h, input_w);
      if (h > 0) m.prefix_tokens = p, m.height = h, m.width = w;
    }
    GLASSBOX_CHECK_PARAM(m.height > 0, "layer", layer, "its output is ", shape_text(s), ": ",
                         o.prefix_tokens() >= 0 ? std::to_string(s[1] - o.prefix_tokens()) + " tokens after the prefix"
                                                : "no prefix of 0 to " + std::to_string(kMaxPrefixTokens) + " tokens",
                         " leaves a grid with the input's aspect ratio (", input_h, " x ", input_w, ")");
    m.channels = s[2];
    return m;
  }
  GLASSBOX_CHECK_PARAM(s.size() == 4, "layer", layer, "its output is ", shape_text(s), ", but ",
                       layout == LayerLayout::channels_last ? "channels last is N x H x W x C" : "CAM methods need N x C x H x W");
  const bool last = layout == LayerLayout::channels_last;
  m.channels = last ? s[3] : s[1];
  m.height = last ? s[1] : s[2];
  m.width = last ? s[2] : s[3];
  GLASSBOX_CHECK_PARAM(m.height >= 1 && m.width >= 1 && m.channels >= 1, "layer", layer, "its output is ", shape_text(s),
                       ": an empty map");
  return m;
}

std::optional<MapReading> read_listed_layer_as_map(const std::vector<int64_t>& shape, int64_t input_h, int64_t input_w) {
  if (shape.size() != 2 && shape.size() != 3) return std::nullopt;
  std::vector<int64_t> sizes{1};
  sizes.insert(sizes.end(), shape.begin(), shape.end());
  try {
    return read_as_map(sizes, LayerOptions(), input_h, input_w, "");
  } catch (const Error&) {
    return std::nullopt;
  }
}

at::Tensor to_map(const at::Tensor& t, const MapReading& m) {
  switch (m.layout) {
    case LayerLayout::tokens:
      return t.narrow(1, m.prefix_tokens, m.height * m.width).reshape({t.size(0), m.height, m.width, m.channels}).permute({0, 3, 1, 2});
    case LayerLayout::channels_last: return t.permute({0, 3, 1, 2});
    default: return t;
  }
}

at::Tensor from_map(const at::Tensor& maps, const MapReading& m, const at::Tensor& like) {
  const int64_t n = maps.size(0);
  switch (m.layout) {
    case LayerLayout::tokens: {
      const at::Tensor grid = maps.permute({0, 2, 3, 1}).reshape({n, m.height * m.width, m.channels});
      if (m.prefix_tokens == 0) return grid;
      return at::cat({like.narrow(1, 0, m.prefix_tokens).expand({n, m.prefix_tokens, m.channels}), grid}, 1);
    }
    case LayerLayout::channels_last: return maps.permute({0, 2, 3, 1});
    default: return maps;
  }
}

}  // namespace glassbox::explain
