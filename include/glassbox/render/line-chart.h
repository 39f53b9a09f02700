// Line charts: panels of curves with axes, ticks and a legend, for metric curves (deletion, insertion,
// ROAD) over methods. Drawn with Cairo, encoded with libpng.
#pragma once

#include <string>
#include <vector>

namespace glassbox::render {

struct ChartSeries {
  std::string label;
  std::vector<double> x, y;  // one point each; non-finite points break the line
};

struct Chart {
  std::string title, x_label, y_label;
  std::vector<ChartSeries> series;
};

// The charts in a grid of `columns`, each panel width x height pixels, as PNG bytes.
std::string render_charts(const std::vector<Chart>& charts, int columns = 3, int width = 380, int height = 280,
                          const std::string& title = "");

}  // namespace glassbox::render
