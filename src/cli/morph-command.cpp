// glassbox morph: change an input step by step until the model sees the target class; an animated GIF
// of the trajectory (or a PNG of its start, end and change).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>

#include "commands.h"
#include "glassbox/explain/figures.h"
#include "glassbox/explain/morph.h"
#include "glassbox/util/error.h"
#include "model-source.h"

namespace glassbox::cli {
namespace {

struct MorphArgs {
  ModelArgs model;
  int64_t index = 0;
  std::string image;
  int64_t target = -1;
  int64_t steps = 100;
  double step_size = 0.02;
  std::string norm = "l2";
  double eps = 0;
  double stop_probability = 0.99;
  std::string out = "morph.gif";
};

void run_morph(const MorphArgs& a) {
  const std::string extension = std::filesystem::path(a.out).extension().string();
  GLASSBOX_CHECK(extension == ".gif" || extension == ".png", "--out ", a.out, ": expected a .gif or .png file");
  LoadedModel m = load_model(a.model);
  int64_t label = -1;
  const at::Tensor x = load_sample(a.model, m, a.index, a.image, label);
  const explain::MorphTrajectory t = explain::morph(*m.model, x,
                                                    explain::MorphOptions(a.target)
                                                        .steps(a.steps)
                                                        .step_size(a.step_size)
                                                        .norm(a.norm)
                                                        .eps(a.eps)
                                                        .stop_probability(a.stop_probability)
                                                        .normalization(m.normalization));
  write_output(a.out, extension == ".gif" ? explain::render_morph_gif(t, a.target, m.class_names)
                                               : explain::render_morph_summary(t, a.target, m.class_names));
  const auto name = [&](int64_t c) { return explain::class_name(m.class_names, c); };
  std::printf("morph to %s: %zu steps, sees %s -> %s, p(target) %.3f -> %.3f%s: %s\n", name(a.target).c_str(),
              t.frames.size() - 1, name(t.predicted.front()).c_str(), name(t.predicted.back()).c_str(),
              t.target_probability.front(), t.target_probability.back(), t.reached ? "" : " (not reached)", a.out.c_str());
}

}  // namespace

Run add_morph_command(CLI::App& app) {
  auto a = std::make_shared<MorphArgs>();
  CLI::App* cmd = app.add_subcommand("morph", "Morph an input toward a class by gradient ascent");
  add_model_options(*cmd, a->model);
  cmd->add_option("--index", a->index, "sample index in the split")->capture_default_str();
  cmd->add_option("--image", a->image, "a PNG file instead of a dataset sample");
  cmd->add_option("--target", a->target, "the class to morph toward")->required();
  cmd->add_option("--steps", a->steps, "at most this many steps")->capture_default_str();
  cmd->add_option("--step-size", a->step_size, "per-pixel step (RMS for l2, max for linf), pixels in [0, 1]")
      ->capture_default_str();
  cmd->add_option("--norm", a->norm, "l2 or linf")->check(CLI::IsMember({"l2", "linf"}))->capture_default_str();
  cmd->add_option("--eps", a->eps, "budget around the start, in --norm (0 = none)")->capture_default_str();
  cmd->add_option("--stop-probability", a->stop_probability, "stop once the target has this probability")
      ->capture_default_str();
  cmd->add_option("--out", a->out, "an animated .gif, or a .png of start, end and change")->capture_default_str();
  return [a] { run_morph(*a); };
}

}  // namespace glassbox::cli
