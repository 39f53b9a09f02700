// The evaluation drawn: the metrics' mean curves per method, and the randomisation test's maps.
#include <ATen/ATen.h>

#include <cstdio>
#include <map>

#include "glassbox/evaluate/evaluation.h"
#include "glassbox/explain/figures.h"
#include "glassbox/render/figure.h"
#include "glassbox/render/line-chart.h"

namespace glassbox::evaluate {

namespace {

struct Axes {
  const char* x;
  const char* y;
};

Axes axes_for(const std::string& metric, const std::string& curve) {
  if (metric == "deletion") return {"fraction of pixels deleted", "probability of the target"};
  if (metric == "insertion") return {"fraction of pixels inserted", "probability of the target"};
  if (metric == "road") return {"% of pixels removed and imputed", "probability of the target"};
  if (metric == "mprt") return {"layers randomised (steps from the logits)", curve == "SSIM" ? "SSIM with the original" : "Spearman with the original"};
  return {"", ""};
}

}  // namespace

std::string render_evaluation_curves(const Evaluation& ev, const std::string& title) {
  // One chart per (metric, curve), in the order first met; one series per method.
  std::vector<render::Chart> charts;
  std::map<std::string, size_t> index;
  for (const MethodEvaluation& m : ev.methods)
    for (const auto& [metric, r] : m.metrics)
      for (const Curve& c : r.curves) {
        const std::string key = metric + "/" + c.name;
        auto it = index.find(key);
        if (it == index.end()) {
          const Axes a = axes_for(metric, c.name);
          render::Chart chart;
          chart.title = metric == c.name ? metric : metric + ": " + c.name;
          chart.x_label = a.x, chart.y_label = a.y;
          it = index.emplace(key, charts.size()).first;
          charts.push_back(chart);
        }
        charts[it->second].series.push_back({m.method, c.x, mean_curve(c.y)});
      }
  if (charts.empty()) return "";
  return render::render_charts(charts, std::min<int>(3, static_cast<int>(charts.size())), 380, 280, title);
}

std::string render_randomisation_strip(const Evaluation& ev, const at::Tensor& images) {
  constexpr int64_t kMaxColumns = 10;
  struct Row {
    std::string method;
    int64_t sample;
    const MetricResult* result;
  };
  std::vector<Row> rows;
  int64_t columns = 0;
  for (const MethodEvaluation& m : ev.methods)
    for (const auto& [metric, r] : m.metrics)
      if (metric == "mprt" && r.strip.defined())
        for (int64_t i = 0; i < r.strip.size(0); ++i) {
          rows.push_back({m.method, i, &r});
          columns = std::max(columns, std::min(kMaxColumns, r.strip.size(1)));
        }
  if (rows.empty()) return "";
  // Column 0: the image; then the original map and up to kMaxColumns - 1 steps, evenly spread.
  render::Figure figure(static_cast<int>(rows.size()), static_cast<int>(columns + 1),
                        render::FigureOptions().panel_size(120).title("model-parameter randomisation: maps as layers are randomised from the logits down"));
  for (size_t r = 0; r < rows.size(); ++r) {
    const Row& row = rows[r];
    render::Panel& img = figure.at(static_cast<int>(r), 0);
    img.title = row.method + " #" + std::to_string(row.sample);
    img.image = explain::to_plane(images[row.sample]);
    img.colorbar = false;
    if (img.image.channels == 1) img.colormap = render::Colormap::gray, img.vmin = 0.0, img.vmax = 1.0;
    const at::Tensor& strip = row.result->strip;
    const int64_t steps = strip.size(1);
    const int64_t shown = std::min(kMaxColumns, steps);
    for (int64_t c = 0; c < shown; ++c) {
      const int64_t s = shown == 1 ? 0 : c * (steps - 1) / (shown - 1);
      render::Panel& p = figure.at(static_cast<int>(r), static_cast<int>(c + 1));
      p.image = explain::to_plane(strip[row.sample][s]);
      p.colorbar = false;
      p.colormap = render::Colormap::viridis;
      if (s == 0) {
        p.title = "original";
      } else {
        char rho[48];
        const double v = row.result->curves.front().y[row.sample][s - 1].item<double>();
        std::snprintf(rho, sizeof rho, " rho %.2f", v);
        std::string layer = row.result->steps[static_cast<size_t>(s - 1)];
        if (layer.size() > 18) layer = layer.substr(0, 17) + "~";
        p.title = "+" + layer + rho;
      }
    }
  }
  return figure.to_png();
}

}  // namespace glassbox::evaluate
