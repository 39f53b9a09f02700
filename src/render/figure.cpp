#include "glassbox/render/figure.h"

#include <cairo/cairo.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>

#include "cairo-surface.h"
#include "glassbox/render/png.h"
#include "glassbox/util/error.h"

namespace glassbox::render {
namespace {

// Layout, in pixels at an 11-pixel font; everything scales with the font.
struct Layout {
  explicit Layout(double font)
      : font(font),
        margin(static_cast<int>(std::lround(8 * font / 11))),
        bar_gap(static_cast<int>(std::lround(6 * font / 11))),
        bar_width(static_cast<int>(std::lround(10 * font / 11))),
        tick_label_width(static_cast<int>(std::lround(42 * font / 11))) {}
  double font;
  int margin, bar_gap, bar_width, tick_label_width;
};

uint32_t pack(const std::array<uint8_t, 3>& c) { return 0xFF000000u | (uint32_t(c[0]) << 16) | (uint32_t(c[1]) << 8) | c[2]; }

uint8_t to_byte(double v) { return static_cast<uint8_t>(std::lround(std::clamp(std::isfinite(v) ? v : 0.0, 0.0, 1.0) * 255)); }

// The panel's pixels at their own resolution, as an opaque ARGB32 surface.
Surface panel_surface(const Panel& p) {
  const Plane& img = p.image;
  Surface s(cairo_image_surface_create(CAIRO_FORMAT_ARGB32, img.width, img.height));
  cairo_surface_flush(s.get());
  unsigned char* data = cairo_image_surface_get_data(s.get());
  const int stride = cairo_image_surface_get_stride(s.get());
  double lo, hi;
  panel_limits(p, lo, hi);
  const double span = hi > lo ? hi - lo : 1.0;
  double overlay_max = 0;
  if (!p.overlay.empty())
    for (float v : p.overlay.data)
      if (std::isfinite(v)) overlay_max = std::max(overlay_max, double(std::abs(v)));
  for (int y = 0; y < img.height; ++y) {
    auto* row = reinterpret_cast<uint32_t*>(data + static_cast<size_t>(y) * stride);
    for (int x = 0; x < img.width; ++x) {
      std::array<uint8_t, 3> c;
      if (img.channels >= 3) {
        c = {to_byte(img.at(0, y, x)), to_byte(img.at(1, y, x)), to_byte(img.at(2, y, x))};
      } else {
        // Exact colours, not a 256-entry table: 0 on a symmetric map must be the map's centre exactly.
        c = color_at(p.colormap, (double(img.at(0, y, x)) - lo) / span);
      }
      if (!p.overlay.empty() && overlay_max > 0) {
        const double v = std::isfinite(p.overlay.at(0, y, x)) ? p.overlay.at(0, y, x) : 0.0;
        // Signed: 0 maps to the middle of the map; otherwise 0 .. max to the whole map.
        const double t = p.overlay_signed ? 0.5 + 0.5 * v / overlay_max : v / overlay_max;
        const auto o = color_at(p.overlay_colormap, t);
        const double a = p.overlay_fade ? p.overlay_alpha * std::min(1.0, std::abs(v) / overlay_max) : p.overlay_alpha;
        for (int k = 0; k < 3; ++k) c[k] = static_cast<uint8_t>(std::lround(c[k] * (1 - a) + o[k] * a));
      }
      row[x] = pack(c);
    }
  }
  cairo_surface_mark_dirty(s.get());
  return s;
}

std::string tick_label(double v) {
  char text[32];
  if (v == 0) return "0";
  const double a = std::abs(v);
  if (a >= 1e-2 && a < 1e4) std::snprintf(text, sizeof text, "%.3g", v);
  else std::snprintf(text, sizeof text, "%.1e", v);
  return text;
}

// A title that does not fit its width on one line goes on two (split at the space nearest the middle);
// only what still does not fit is shrunk. Titles are never cut.
std::vector<std::string> title_lines(cairo_t* cr, const std::string& text, double max_width) {
  cairo_text_extents_t ext;
  cairo_text_extents(cr, text.c_str(), &ext);
  if (ext.width <= max_width) return {text};
  size_t best = std::string::npos;
  for (size_t i = text.find(' '); i != std::string::npos; i = text.find(' ', i + 1))
    if (best == std::string::npos ||
        std::abs(double(i) - text.size() / 2.0) < std::abs(double(best) - text.size() / 2.0))
      best = i;
  if (best == std::string::npos) return {text};
  return {text.substr(0, best), text.substr(best + 1)};
}

void draw_line(cairo_t* cr, const std::string& text, double x, double y, double max_width) {
  cairo_text_extents_t ext;
  cairo_text_extents(cr, text.c_str(), &ext);
  const double scale = ext.width > max_width && ext.width > 0 ? max_width / ext.width : 1.0;
  cairo_save(cr);
  cairo_move_to(cr, x + (max_width - ext.width * scale) / 2 - ext.x_bearing * scale, y);
  cairo_scale(cr, scale, scale);
  cairo_show_text(cr, text.c_str());
  cairo_restore(cr);
}

// Draws a title whose last line's baseline is at `y`.
void draw_text(cairo_t* cr, const std::string& text, double x, double y, double max_width, double line_height) {
  const std::vector<std::string> lines = title_lines(cr, text, max_width);
  for (size_t i = 0; i < lines.size(); ++i)
    draw_line(cr, lines[i], x, y - (lines.size() - 1 - i) * line_height, max_width);
}

}  // namespace

void panel_limits(const Panel& p, double& lo, double& hi) {
  lo = INFINITY;
  hi = -INFINITY;
  for (float v : p.image.data)
    if (std::isfinite(v)) {
      lo = std::min(lo, double(v));
      hi = std::max(hi, double(v));
    }
  if (!std::isfinite(lo)) lo = hi = 0;
  if (p.vmin) lo = *p.vmin;
  if (p.vmax) hi = *p.vmax;
  if (p.symmetric) {
    const double m = std::max(std::abs(lo), std::abs(hi));
    lo = -m;
    hi = m;
  }
  if (hi <= lo) {  // a flat panel: give it a range so that it draws (as the low end, or the middle)
    hi = lo + (p.symmetric ? 0 : 1);
    if (p.symmetric) lo = -1, hi = 1;
  }
}

Figure::Figure(int rows, int cols, FigureOptions options) : rows_(rows), cols_(cols), options_(std::move(options)) {
  GLASSBOX_CHECK(rows >= 1 && cols >= 1, "figure: ", rows, "x", cols, " panels, expected at least 1x1");
  panels_.resize(static_cast<size_t>(rows * cols));
}

Panel& Figure::at(int row, int col) {
  GLASSBOX_CHECK(row >= 0 && row < rows_ && col >= 0 && col < cols_, "figure: panel (", row, ", ", col,
                 ") outside ", rows_, "x", cols_);
  return panels_[static_cast<size_t>(row * cols_ + col)];
}

RgbImage Figure::render() const {
  // Every cell has the same size: the largest panel's aspect decides it.
  double aspect = 1.0;  // height / width
  for (const Panel& p : panels_)
    if (!p.empty()) aspect = std::max(aspect, double(p.image.height) / p.image.width);
  const int size = options_.panel_size();
  const Layout L(options_.font_size() > 0 ? options_.font_size() : std::max(11.0, size / 16.0));
  const double font = L.font;
  const int img_w = aspect > 1 ? static_cast<int>(size / aspect) : size;
  const int img_h = aspect > 1 ? size : static_cast<int>(size * aspect);
  bool any_bar = false;
  for (const Panel& p : panels_) any_bar = any_bar || (!p.empty() && p.colorbar && p.image.channels < 3);
  const int bar_w = any_bar ? L.bar_gap + L.bar_width + L.tick_label_width : L.margin;
  const double title_w = any_bar ? img_w + L.bar_gap + L.bar_width + L.tick_label_width / 2.0 : img_w;
  // Two title lines for every cell when any title needs them, so that the images stay aligned.
  int title_lines_needed = 1;
  {
    Surface probe(cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 1, 1));
    Context pc(cairo_create(probe.get()));
    cairo_select_font_face(pc.get(), "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(pc.get(), font);
    for (const Panel& p : panels_)
      if (!p.empty()) title_lines_needed = std::max<int>(title_lines_needed, title_lines(pc.get(), p.title, title_w).size());
  }
  const double line_h = font * 1.2;
  const int title_h = static_cast<int>(font * 1.8 + (title_lines_needed - 1) * line_h);
  const int cell_w = L.margin + img_w + bar_w;
  const int cell_h = title_h + img_h + L.margin;
  const int top = options_.title().empty() ? L.margin : L.margin + static_cast<int>(font * 2.2);
  const int width = cols_ * cell_w + L.margin, height = top + rows_ * cell_h;

  Surface surface(cairo_image_surface_create(CAIRO_FORMAT_ARGB32, width, height));
  Context cr(cairo_create(surface.get()));
  cairo_set_source_rgb(cr.get(), 1, 1, 1);
  cairo_paint(cr.get());
  cairo_select_font_face(cr.get(), "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  if (!options_.title().empty()) {
    cairo_set_source_rgb(cr.get(), 0, 0, 0);
    cairo_set_font_size(cr.get(), font * 1.25);
    draw_line(cr.get(), options_.title(), L.margin, L.margin + font * 1.3, width - 2 * L.margin);
  }
  for (int r = 0; r < rows_; ++r)
    for (int c = 0; c < cols_; ++c) {
      const Panel& p = panels_[static_cast<size_t>(r * cols_ + c)];
      if (p.empty()) continue;
      const double x0 = L.margin + c * cell_w, y0 = top + r * cell_h;
      cairo_set_source_rgb(cr.get(), 0, 0, 0);
      cairo_set_font_size(cr.get(), font);
      draw_text(cr.get(), p.title, x0, y0 + title_h - font * 0.55, title_w, line_h);
      // The image, scaled with nearest-neighbour sampling: pixels stay pixels.
      Surface img = panel_surface(p);
      cairo_save(cr.get());
      cairo_translate(cr.get(), x0, y0 + title_h);
      cairo_scale(cr.get(), double(img_w) / p.image.width, double(img_h) / p.image.height);
      cairo_set_source_surface(cr.get(), img.get(), 0, 0);
      cairo_pattern_set_filter(cairo_get_source(cr.get()), CAIRO_FILTER_NEAREST);
      cairo_paint(cr.get());
      cairo_restore(cr.get());
      if (!p.cell_text.empty()) {
        // Text on each cell, black or white against the cell's own colour.
        const double cw = double(img_w) / p.image.width, ch = double(img_h) / p.image.height;
        cairo_set_font_size(cr.get(), std::min(font, ch * 0.45));
        double lo, hi;
        panel_limits(p, lo, hi);
        for (int yy = 0; yy < p.image.height; ++yy)
          for (int xx = 0; xx < p.image.width; ++xx) {
            const size_t k = static_cast<size_t>(yy) * p.image.width + xx;
            if (k >= p.cell_text.size() || p.cell_text[k].empty()) continue;
            const auto c = color_at(p.colormap, (double(p.image.at(0, yy, xx)) - lo) / (hi > lo ? hi - lo : 1.0));
            const double luminance = 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2];
            const double ink = luminance < 128 ? 1.0 : 0.0;
            cairo_set_source_rgb(cr.get(), ink, ink, ink);
            cairo_text_extents_t ext;
            cairo_text_extents(cr.get(), p.cell_text[k].c_str(), &ext);
            cairo_move_to(cr.get(), x0 + (xx + 0.5) * cw - ext.width / 2 - ext.x_bearing,
                          y0 + title_h + (yy + 0.5) * ch - ext.height / 2 - ext.y_bearing);
            cairo_show_text(cr.get(), p.cell_text[k].c_str());
          }
      }
      if (!p.colorbar || p.image.channels >= 3) continue;
      // Colorbar: the map from bottom (low) to top (high), with three ticks.
      double lo, hi;
      panel_limits(p, lo, hi);
      const double bx = x0 + img_w + L.bar_gap, by = y0 + title_h;
      const auto& table = colormap_table(p.colormap);
      for (int i = 0; i < img_h; ++i) {
        const auto& col = table[static_cast<size_t>(std::lround(255.0 * (img_h - 1 - i) / std::max(1, img_h - 1)))];
        cairo_set_source_rgb(cr.get(), col[0] / 255.0, col[1] / 255.0, col[2] / 255.0);
        cairo_rectangle(cr.get(), bx, by + i, L.bar_width, 1);
        cairo_fill(cr.get());
      }
      cairo_set_source_rgb(cr.get(), 0, 0, 0);
      cairo_set_line_width(cr.get(), 1);
      cairo_rectangle(cr.get(), bx + 0.5, by + 0.5, L.bar_width - 1, img_h - 1);
      cairo_stroke(cr.get());
      cairo_set_font_size(cr.get(), font * 0.8);
      for (int k = 0; k < 3; ++k) {
        const double v = lo + (hi - lo) * k / 2.0;
        const double ty = by + (img_h - 1) * (1 - k / 2.0);
        cairo_move_to(cr.get(), bx + L.bar_width, ty + 0.5);
        cairo_line_to(cr.get(), bx + L.bar_width + 3, ty + 0.5);
        cairo_stroke(cr.get());
        cairo_move_to(cr.get(), bx + L.bar_width + 5, ty + font * 0.3);
        cairo_show_text(cr.get(), tick_label(v).c_str());
      }
    }
  return surface_pixels(surface.get(), cr.get());
}

RgbImage surface_pixels(cairo_surface_t* surface, cairo_t* cr) {
  cairo_surface_flush(surface);
  GLASSBOX_CHECK(cairo_status(cr) == CAIRO_STATUS_SUCCESS, "figure: cairo error: ", cairo_status_to_string(cairo_status(cr)));
  RgbImage out;
  out.width = cairo_image_surface_get_width(surface);
  out.height = cairo_image_surface_get_height(surface);
  out.pixels.resize(static_cast<size_t>(out.width) * out.height * 3);
  const unsigned char* data = cairo_image_surface_get_data(surface);
  const int stride = cairo_image_surface_get_stride(surface);
  for (int y = 0; y < out.height; ++y) {
    const auto* row = reinterpret_cast<const uint32_t*>(data + static_cast<size_t>(y) * stride);
    uint8_t* dst = out.pixels.data() + static_cast<size_t>(y) * out.width * 3;
    for (int x = 0; x < out.width; ++x) {
      dst[3 * x] = static_cast<uint8_t>(row[x] >> 16);
      dst[3 * x + 1] = static_cast<uint8_t>(row[x] >> 8);
      dst[3 * x + 2] = static_cast<uint8_t>(row[x]);
    }
  }
  return out;
}

std::string Figure::to_png() const {
  const RgbImage img = render();
  return encode_png(img.pixels.data(), img.width, img.height, 3);
}

}  // namespace glassbox::render
