#include "glassbox/explain/confusion-report.h"

#include <ATen/ATen.h>

#include <nlohmann/json.hpp>

#include <filesystem>

#include "glassbox/explain/figures.h"
#include "glassbox/explain/layer-attribution.h"
#include "glassbox/util/atomic-file.h"
#include "glassbox/util/bounded-json.h"

namespace glassbox::explain {
namespace {

std::string figure_name(size_t rank, int64_t index) {
  const std::string r = std::to_string(rank);
  return "rank" + std::string(r.size() < 3 ? 3 - r.size() : 0, '0') + r + "-index" + std::to_string(index) + ".png";
}

// The figures of the ranked samples, with the CAM column when asked.
std::vector<ConfusionFigureData> ranked_figures(const models::Model& model, const data::Dataset& data, const MiningResult& r,
                                                const ConfusionReportOptions& o) {
  std::vector<int64_t> rows, ca, cb;
  for (const RankedSample& s : r.ranked) rows.push_back(s.index), ca.push_back(s.class_a), cb.push_back(s.class_b);
  const c10::Device device = model.device();
  const data::Batch b = data.batch(at::tensor(rows, at::kLong));
  const at::Tensor x = model.spec().to_input(b.x).to(device);
  const at::Tensor ta = at::tensor(ca, at::kLong).to(device), tb = at::tensor(cb, at::kLong).to(device);
  std::vector<ConfusionFigureData> figures =
      confusion_figure_data(model.network(), model.spec(), x, b.y.to(device), ta, tb, o.projection_factor());
  if (o.cam() == nullptr) return figures;
  const std::string layer = resolved_layer(model.network(), LayerOptions().layer(o.layer()));
  const AttributeOptions options = AttributeOptions().layer(LayerOptions().layer(layer));
  const at::Tensor cam_a = o.cam()->attribute({model.network(), x, ta, options}).to(at::kCPU);
  const at::Tensor cam_b = o.cam()->attribute({model.network(), x, tb, options}).to(at::kCPU);
  for (size_t i = 0; i < figures.size(); ++i) {
    figures[i].cam_a = cam_a[static_cast<int64_t>(i)];
    figures[i].cam_b = cam_b[static_cast<int64_t>(i)];
    figures[i].cam_method = o.cam()->name() + std::string(" at ") + layer;
  }
  return figures;
}

}  // namespace

void write_confusion_report(const models::Model& model, const data::Dataset& data, const MiningResult& r,
                            const ConfusionReportOptions& o, const std::string& directory) {
  const std::filesystem::path dir(directory);
  nlohmann::json ranked = nlohmann::json::array();
  if (!r.ranked.empty()) {
    const std::vector<ConfusionFigureData> figures = ranked_figures(model, data, r, o);
    for (size_t i = 0; i < r.ranked.size(); ++i) {
      const RankedSample& s = r.ranked[i];
      const std::string name = figure_name(i, s.index);
      if (!figures[i].vanished) write_file_atomically((dir / name).string(), render_confusion_figure(figures[i]));
      ranked.push_back({{"rank", i}, {"index", s.index}, {"label", s.label}, {"class_a", s.class_a},
                        {"class_b", s.class_b}, {"class_c", s.class_c}, {"prob_a", s.prob_a}, {"prob_b", s.prob_b},
                        {"gap", s.gap}, {"margin", s.margin}, {"entropy", s.entropy},
                        {"figure", figures[i].vanished ? nlohmann::json(nullptr) : nlohmann::json(name)},
                        {"vanished_gradient", figures[i].vanished}});
    }
  }
  write_file_atomically((dir / "pairs.png").string(), render_pair_matrix(r.pair_counts, model.spec().class_names()));
  std::vector<std::vector<int64_t>> pairs;
  const at::Tensor counts = r.pair_counts.to(at::kCPU).contiguous();
  for (int64_t i = 0; i < counts.size(0); ++i) {
    pairs.emplace_back();
    for (int64_t j = 0; j < counts.size(1); ++j) pairs.back().push_back(counts[i][j].item<int64_t>());
  }
  const nlohmann::json index = {{"data", o.data_name()},   {"split", o.split_name()},
                                {"samples", r.samples},     {"accuracy", r.accuracy},
                                {"rank_by", rank_by_name(o.rank_by())},       {"ranked", ranked},
                                {"pair_counts", pairs},     {"mining_seconds", o.mining_seconds()},
                                {"world_size", o.world_size()}};
  write_file_atomically((dir / "index.json").string(), json_text(index) + "\n");
}

}  // namespace glassbox::explain
