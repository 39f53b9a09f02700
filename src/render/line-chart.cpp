#include "glassbox/render/line-chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "cairo-surface.h"
#include "glassbox/render/png.h"
#include "glassbox/util/error.h"

namespace glassbox::render {

namespace {

// Tableau's ten categorical colours, as matplotlib's default cycle: what readers of curves expect.
constexpr double kColours[][3] = {{0.122, 0.467, 0.706}, {1.000, 0.498, 0.055}, {0.173, 0.627, 0.173},
                                  {0.839, 0.153, 0.157}, {0.580, 0.404, 0.741}, {0.549, 0.337, 0.294},
                                  {0.890, 0.467, 0.761}, {0.498, 0.498, 0.498}, {0.737, 0.741, 0.133},
                                  {0.090, 0.745, 0.812}};

std::string tick(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", std::fabs(v) < 1e-12 ? 0.0 : v);
  return buf;
}

void text(cairo_t* cr, const std::string& s, double x, double y, double align = 0) {
  cairo_text_extents_t e;
  cairo_text_extents(cr, s.c_str(), &e);
  cairo_move_to(cr, x - align * e.x_advance, y);
  cairo_show_text(cr, s.c_str());
}

void draw_chart(cairo_t* cr, const Chart& c, double x0, double y0, double w, double h) {
  double xmin = std::numeric_limits<double>::infinity(), xmax = -xmin, ymin = xmin, ymax = -xmin;
  for (const ChartSeries& s : c.series)
    for (size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i)
      if (std::isfinite(s.x[i]) && std::isfinite(s.y[i]))
        xmin = std::min(xmin, s.x[i]), xmax = std::max(xmax, s.x[i]), ymin = std::min(ymin, s.y[i]), ymax = std::max(ymax, s.y[i]);
  if (!(xmin <= xmax)) xmin = 0, xmax = 1, ymin = 0, ymax = 1;
  if (xmax == xmin) xmax = xmin + 1;
  if (ymax == ymin) ymin -= 0.5, ymax += 0.5;
  const double pad = 0.05 * (ymax - ymin);
  ymin -= pad, ymax += pad;
  const double left = x0 + 52, right = x0 + w - 10, top = y0 + 28, bottom = y0 + h - 40;
  auto px = [&](double v) { return left + (v - xmin) / (xmax - xmin) * (right - left); };
  auto py = [&](double v) { return bottom - (v - ymin) / (ymax - ymin) * (bottom - top); };
  cairo_set_source_rgb(cr, 0, 0, 0);
  cairo_set_font_size(cr, 13);
  text(cr, c.title, (left + right) / 2, y0 + 18, 0.5);
  cairo_set_font_size(cr, 10);
  cairo_set_line_width(cr, 1);
  cairo_rectangle(cr, left + 0.5, top + 0.5, right - left, bottom - top);
  cairo_stroke(cr);
  for (int k = 0; k <= 4; ++k) {
    const double xv = xmin + (xmax - xmin) * k / 4, yv = ymin + (ymax - ymin) * k / 4;
    cairo_move_to(cr, px(xv) + 0.5, bottom), cairo_line_to(cr, px(xv) + 0.5, bottom + 4);
    cairo_move_to(cr, left - 4, py(yv) + 0.5), cairo_line_to(cr, left, py(yv) + 0.5);
    cairo_stroke(cr);
    text(cr, tick(xv), px(xv), bottom + 15, 0.5);
    text(cr, tick(yv), left - 6, py(yv) + 3.5, 1.0);
  }
  text(cr, c.x_label, (left + right) / 2, bottom + 30, 0.5);
  cairo_save(cr);
  cairo_move_to(cr, x0 + 12, (top + bottom) / 2);
  cairo_rotate(cr, -M_PI / 2);
  cairo_text_extents_t e;
  cairo_text_extents(cr, c.y_label.c_str(), &e);
  cairo_rel_move_to(cr, -e.x_advance / 2, 0);
  cairo_show_text(cr, c.y_label.c_str());
  cairo_restore(cr);
  cairo_set_line_width(cr, 1.8);
  for (size_t k = 0; k < c.series.size(); ++k) {
    const ChartSeries& s = c.series[k];
    const double* col = kColours[k % 10];
    cairo_set_source_rgb(cr, col[0], col[1], col[2]);
    bool pen = false;
    for (size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) {
        pen = false;
        continue;
      }
      if (pen)
        cairo_line_to(cr, px(s.x[i]), py(s.y[i]));
      else
        cairo_move_to(cr, px(s.x[i]), py(s.y[i]));
      pen = true;
    }
    cairo_stroke(cr);
    // The legend, top right inside the axes.
    const double ly = top + 14 + 14 * static_cast<double>(k);
    cairo_move_to(cr, right - 118, ly - 3.5), cairo_line_to(cr, right - 100, ly - 3.5);
    cairo_stroke(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    text(cr, s.label.substr(0, 18), right - 96, ly);
  }
}

}  // namespace

std::string render_charts(const std::vector<Chart>& charts, int columns, int width, int height, const std::string& title) {
  GLASSBOX_CHECK(!charts.empty() && columns >= 1 && width >= 120 && height >= 100 && width <= 4096 && height <= 4096,
                 "render_charts: ", charts.size(), " charts in ", columns, " columns of ", width, "x", height,
                 ": expected at least one chart, one column and panels of 120x100 to 4096x4096");
  const int cols = std::min<int>(columns, static_cast<int>(charts.size()));
  const int rows = (static_cast<int>(charts.size()) + cols - 1) / cols;
  const int head = title.empty() ? 0 : 28;
  Surface surface(cairo_image_surface_create(CAIRO_FORMAT_ARGB32, cols * width, head + rows * height));
  Context cr(cairo_create(surface.get()));
  cairo_set_source_rgb(cr.get(), 1, 1, 1);
  cairo_paint(cr.get());
  cairo_select_font_face(cr.get(), "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  if (!title.empty()) {
    cairo_set_source_rgb(cr.get(), 0, 0, 0);
    cairo_set_font_size(cr.get(), 15);
    text(cr.get(), title, 10, 20);
  }
  for (size_t i = 0; i < charts.size(); ++i)
    draw_chart(cr.get(), charts[i], static_cast<double>(static_cast<int>(i) % cols * width),
               head + static_cast<double>(static_cast<int>(i) / cols * height), width, height);
  const RgbImage img = surface_pixels(surface.get(), cr.get());
  return encode_png(img.pixels.data(), img.width, img.height, 3);
}

}  // namespace glassbox::render
