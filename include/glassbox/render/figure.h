// Figures people read at a glance: a grid of panels, each an image (RGB, or one channel through a
// colormap) with a title and an optional colorbar with ticks, or an attribution blended over an image.
// Drawn with Cairo, encoded with libpng.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "glassbox/render/colormap.h"
#include "glassbox/render/image.h"
#include "glassbox/util/arg.h"

namespace glassbox::render {

struct Panel {
  std::string title;
  Plane image;                        // 3 channels: RGB in [0, 1]; 1 channel: through `colormap`
  Colormap colormap = Colormap::viridis;
  bool symmetric = false;             // limits +-max|v|, centred on 0 (for the diverging map)
  std::optional<double> vmin, vmax;   // fixed limits; otherwise the data's range
  bool colorbar = true;
  Plane overlay;                      // optional: one channel drawn over `image` through `overlay_colormap`
  Colormap overlay_colormap = Colormap::diverging;
  double overlay_alpha = 0.6;         // the overlay's weight in the blend (at its strongest value when fading)
  bool overlay_signed = true;         // values centred on 0 on the map; false: 0 .. max
  // true: the weight grows with |value| (sparse attributions show where they are); false: one weight
  // everywhere, the heat-map-over-photograph blend of pytorch-grad-cam's show_cam_on_image.
  bool overlay_fade = true;
  std::vector<std::string> cell_text; // optional: text centred on each data pixel (row-major), e.g. counts

  bool empty() const { return image.empty(); }
};

struct FigureOptions {
  GLASSBOX_ARG(int, panel_size) = 240;   // the longer side of each image, in pixels
  // Title size in pixels; 0: panel_size / 16 (at least 11). Margins, colorbars and ticks scale with it.
  GLASSBOX_ARG(double, font_size) = 0;
  GLASSBOX_ARG(std::string, title);       // over the whole figure; empty = none
};

class Figure {
 public:
  Figure(int rows, int cols, FigureOptions options = FigureOptions());
  Panel& at(int row, int col);
  int rows() const { return rows_; }
  int cols() const { return cols_; }

  RgbImage render() const;
  std::string to_png() const;

 private:
  int rows_, cols_;
  FigureOptions options_;
  std::vector<Panel> panels_;
};

// The display limits a panel uses for its data: [vmin, vmax], symmetric around 0 when asked.
void panel_limits(const Panel& panel, double& lo, double& hi);

}  // namespace glassbox::render
