// glassbox confused: mine a dataset split for the samples the model is most torn on; their 2x3
// figures, the confused-pairs matrix as a picture, and index.json of the ranked samples.
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>

#include "commands.h"
#include "distributed-flags.h"
#include "flags.h"
#include "glassbox/explain/confusion-report.h"
#include "glassbox/explain/layer-attribution.h"
#include "glassbox/util/atomic-file.h"
#include "glassbox/util/error.h"
#include "glassbox/util/output-paths.h"
#include "glassbox/util/terminal-text.h"
#include "model-source.h"

namespace glassbox::cli {
namespace {

struct ConfusedArgs {
  ModelArgs model;
  explain::MiningOptions mining;
  explain::ConfusionReportOptions report;
  std::string out = "confused";
  std::string cam = "gradcam";  // "none": no CAM column
  bool cam_given = false;
  DistributedArgs distributed;
};

void run_confused(ConfusedArgs& a) {
  check_output_directory("--out", a.out);
  check_model_args(a.model);
  explain::ConfusionReportOptions& report = a.report;
  if (a.cam != "none") {
    report.cam(&for_flag("--cam", a.cam, [&]() -> const explain::AttributionMethod& { return explain::find_attribution_method(a.cam); }));
    GLASSBOX_CHECK(report.cam()->uses_layer(), "--cam ", a.cam, ": expected a layer method (gradcam, gradcampp, hirescam, ",
                   "eigencam, scorecam, ...) or none");
  }
  GLASSBOX_CHECK(report.layer().empty() || report.cam(), "--layer ", printable_excerpt(report.layer()), ": needs a --cam method");
  const distributed::LaunchEnvironment env = start_ranks_or_continue(a.distributed);
  // Each rank on its own GPU with --device cuda.
  ModelArgs model_args = a.model;
  model_args.device = distributed::rank_device(a.model.device, env);
  const Session m = open_session(model_args, nullptr, true);
  // The CAM column: on the given layer, or the default CAM layer; a model without one (linear, mlp) goes
  // without unless --cam asked for it.
  if (report.cam()) {
    try {
      report.layer(explain::resolved_layer(m.model->network(), explain::LayerOptions().layer(report.layer())));
    } catch (const Error& e) {
      if (a.cam_given || !report.layer().empty()) throw Error("--cam " + a.cam + ": " + e.what());
      report.cam(nullptr);
    }
  }
  // Every rank runs its share of the dataset; rank 0 ranks, explains the top samples and writes.
  const std::shared_ptr<distributed::Communicator> world = join_world(a.distributed, env, model_args.device);
  if (world->rank() == 0) ensure_writable_directory(a.out);
  const auto t0 = std::chrono::steady_clock::now();
  const explain::MiningResult r = explain::mine_confusion(m.model->network(), m.model->spec(), *m.split, a.mining, *world);
  report.mining_seconds(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  if (world->rank() != 0) return;
  report.data_name(a.model.data.data).split_name(a.model.data.split).rank_by(a.mining.rank_by()).world_size(world->world_size());
  explain::write_confusion_report(*m.model, *m.split, r, report, a.out);
  std::printf("mined %lld samples in %.2f s (accuracy %.4f); %zu most confused in %s (index.json, pairs.png, figures)\n",
              static_cast<long long>(r.samples), report.mining_seconds(), r.accuracy, r.ranked.size(), terminal_text(a.out).c_str());
}

}  // namespace

Run add_confused_command(CLI::App& app) {
  auto a = std::make_shared<ConfusedArgs>();
  CLI::App* cmd = app.add_subcommand("confused", "Find the samples a model is most torn on, with their figures");
  add_model_options(*cmd, a->model);
  add_integer(*cmd, "--top", a->mining.top(), 0, 100000, "how many of the most confused samples to explain");
  add_choice(*cmd, "--rank-by", a->mining.rank_by(), explain::rank_by_names(), "gap (logits), margin (probabilities) or entropy");
  add_real(*cmd, "--projection-factor", a->report.projection_factor(), [](double v) { return v >= 0; }, "a finite number >= 0",
           "k in x + k * gradient");
  cmd->add_option("--cam", a->cam,
                  "a layer method drawn over each figure's input for both classes, or none (default gradcam, on models "
                  "that have a layer for it)")
      ->each([a](const std::string&) { a->cam_given = true; });
  cmd->add_option("--layer", a->report.layer(), "the --cam method's layer (default: the last N x C x H x W one)");
  cmd->add_option("--out", a->out, "output directory")->capture_default_str();
  add_distributed_options(*cmd, a->distributed, false);
  return [a] { run_confused(*a); };
}

}  // namespace glassbox::cli
