// glassbox confused: mine a dataset split for the samples the model is most torn on; their 2x3
// figures, the confused-pairs matrix as a picture, and index.json of the ranked samples.
#include <ATen/ATen.h>
#include <CLI/CLI.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "commands.h"
#include "distributed-flags.h"
#include "glassbox/distributed/world.h"
#include "glassbox/callbacks/confused-logit.h"
#include "glassbox/explain/confusion.h"
#include "glassbox/explain/figures.h"
#include "glassbox/explain/layer-attribution.h"
#include "glassbox/explain/methods.h"
#include "glassbox/util/atomic-file.h"
#include "glassbox/util/bounded-json.h"
#include "glassbox/util/error.h"
#include "glassbox/util/terminal-text.h"
#include "flags.h"
#include "model-source.h"
#include "outputs.h"

namespace glassbox::cli {
namespace {

struct ConfusedArgs {
  ModelArgs model;
  int64_t top = explain::MiningOptions().top();
  std::string rank_by = explain::rank_by_name(explain::MiningOptions().rank_by());
  double k = callbacks::ConfusedLogitOptions(1).projection_factor();
  std::string out = "confused";
  std::string cam = "gradcam";  // "none": no CAM column
  bool cam_given = false;
  std::string layer;
  DistributedArgs distributed;
};

void run_confused(const ConfusedArgs& a) {
  check_output_directory("--out", a.out);
  check_model_args(a.model);
  const explain::AttributionMethod* cam_method = nullptr;
  if (a.cam != "none") {
    cam_method = &for_flag("--cam", a.cam, [&]() -> const explain::AttributionMethod& {
      return explain::find_attribution_method(a.cam);
    });
    GLASSBOX_CHECK(cam_method->uses_layer(), "--cam ", a.cam, ": expected a layer method (gradcam, gradcampp, hirescam, ",
                   "eigencam, scorecam, ...) or none");
  }
  GLASSBOX_CHECK(a.layer.empty() || cam_method, "--layer ", printable_excerpt(a.layer), ": needs a --cam method");
  const distributed::LaunchEnvironment env = start_ranks_or_continue(a.distributed);
  // Each rank on its own GPU with --device cuda.
  ModelArgs model_args = a.model;
  const c10::Device device = distributed::rank_device(a.model.device, env);
  model_args.device = device;
  Session m = open_session(model_args, nullptr, true);
  const data::Dataset& d = *m.split;
  // The CAM column: on the given layer, or the default CAM layer; a model without one (linear, mlp) goes
  // without unless --cam asked for it.
  std::string cam_layer;
  if (cam_method) {
    try {
      cam_layer = explain::resolved_layer(m.model->network(), explain::LayerOptions().layer(a.layer));
    } catch (const Error& e) {
      if (a.cam_given || !a.layer.empty()) throw Error("--cam " + a.cam + ": " + e.what());
      cam_method = nullptr;
    }
  }
  // Every rank runs its share of the dataset; rank 0 ranks, explains the top samples and writes.
  const std::shared_ptr<distributed::Communicator> world = join_world(a.distributed, env, device);
  if (world->rank() == 0) ensure_writable_directory(a.out);
  const auto t0 = std::chrono::steady_clock::now();
  const explain::MiningResult r = explain::mine_confusion(
      m.model->network(), m.model->spec(), d, explain::MiningOptions().top(a.top).rank_by(explain::parse_rank_by(a.rank_by)), *world);
  const double mining_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (world->rank() != 0) return;

  nlohmann::json index = {{"data", a.model.data.data}, {"split", a.model.data.split}, {"samples", r.samples},
                          {"accuracy", r.accuracy}, {"rank_by", a.rank_by}, {"ranked", nlohmann::json::array()}};
  if (!r.ranked.empty()) {
    std::vector<int64_t> rows, ca, cb;
    for (const auto& s : r.ranked) rows.push_back(s.index), ca.push_back(s.class_a), cb.push_back(s.class_b);
    const data::Batch b = d.batch(at::tensor(rows, at::kLong));
    const at::Tensor x = m.model->spec().to_input(b.x).to(device), ta = at::tensor(ca, at::kLong).to(device), tb = at::tensor(cb, at::kLong).to(device);
    auto figures = explain::confusion_figure_data(m.model->network(), m.model->spec(), x, b.y.to(device), ta, tb, a.k);
    if (cam_method) {
      const explain::AttributeOptions options = explain::AttributeOptions().layer(explain::LayerOptions().layer(cam_layer));
      const at::Tensor cam_a = for_flag("--layer", cam_layer, [&] { return cam_method->attribute({m.model->network(), x, ta, options}); }).to(at::kCPU);
      const at::Tensor cam_b = cam_method->attribute({m.model->network(), x, tb, options}).to(at::kCPU);
      for (size_t i = 0; i < figures.size(); ++i) {
        figures[i].cam_a = cam_a[static_cast<int64_t>(i)];
        figures[i].cam_b = cam_b[static_cast<int64_t>(i)];
        figures[i].cam_method = cam_method->name() + std::string(" at ") + cam_layer;
      }
    }
    for (size_t i = 0; i < r.ranked.size(); ++i) {
      const auto& s = r.ranked[i];
      const std::string name = "rank" + std::string(i < 10 ? "00" : i < 100 ? "0" : "") + std::to_string(i) + "-index" +
                               std::to_string(s.index) + ".png";
      if (!figures[i].vanished) write_file_atomically((std::filesystem::path(a.out) / name).string(),
                                                      explain::render_confusion_figure(figures[i]));
      index["ranked"].push_back({{"rank", i}, {"index", s.index}, {"label", s.label}, {"class_a", s.class_a},
                                 {"class_b", s.class_b}, {"class_c", s.class_c}, {"prob_a", s.prob_a}, {"prob_b", s.prob_b}, {"gap", s.gap},
                                 {"margin", s.margin}, {"entropy", s.entropy},
                                 {"figure", figures[i].vanished ? nlohmann::json(nullptr) : nlohmann::json(name)},
                                 {"vanished_gradient", figures[i].vanished}});
    }
  }
  write_file_atomically((std::filesystem::path(a.out) / "pairs.png").string(),
                        explain::render_pair_matrix(r.pair_counts, m.model->spec().class_names()));
  std::vector<std::vector<int64_t>> pairs;
  for (int64_t i = 0; i < r.pair_counts.size(0); ++i) {
    pairs.emplace_back();
    for (int64_t j = 0; j < r.pair_counts.size(1); ++j) pairs.back().push_back(r.pair_counts[i][j].item<int64_t>());
  }
  index["pair_counts"] = pairs;
  index["mining_seconds"] = mining_s;
  index["world_size"] = world->world_size();
  write_file_atomically((std::filesystem::path(a.out) / "index.json").string(), json_text(index) + "\n");
  std::printf("mined %lld samples in %.2f s (accuracy %.4f); %zu most confused in %s (index.json, pairs.png, figures)\n",
              static_cast<long long>(r.samples), mining_s, r.accuracy, r.ranked.size(), terminal_text(a.out).c_str());
}

}  // namespace

Run add_confused_command(CLI::App& app) {
  auto a = std::make_shared<ConfusedArgs>();
  CLI::App* cmd = app.add_subcommand("confused", "Find the samples a model is most torn on, with their figures");
  add_model_options(*cmd, a->model);
  add_integer(*cmd, "--top", a->top, 0, 100000, "how many of the most confused samples to explain");
  cmd->add_option("--rank-by", a->rank_by, "gap (logits), margin (probabilities) or entropy")
      ->check(CLI::IsMember(explain::rank_by_names()))
      ->capture_default_str();
  add_real(*cmd, "--projection-factor", a->k, [](double v) { return v >= 0; }, "a finite number >= 0",
           "k in x + k * gradient");
  cmd->add_option("--cam", a->cam,
                  "a layer method drawn over each figure's input for both classes, or none (default gradcam, on models "
                  "that have a layer for it)")
      ->each([a](const std::string&) { a->cam_given = true; });
  cmd->add_option("--layer", a->layer, "the --cam method's layer (default: the last N x C x H x W one)");
  cmd->add_option("--out", a->out, "output directory")->capture_default_str();
  add_distributed_options(*cmd, a->distributed, false);
  return [a] { run_confused(*a); };
}

}  // namespace glassbox::cli
