// glassbox morph: change an input step by step until the model sees the target class; an animated GIF
// of the trajectory (or a PNG of its start, end and change).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>

#include "commands.h"
#include "glassbox/explain/figures.h"
#include "glassbox/explain/morph.h"
#include "glassbox/models/model-options.h"
#include "glassbox/util/error.h"
#include "glassbox/util/terminal-text.h"
#include "flags.h"
#include "model-source.h"
#include "outputs.h"

namespace glassbox::cli {
namespace {

struct MorphArgs {
  ModelArgs model;
  InputArgs inputs;
  int64_t target = -1;
  // The library's defaults (morph.h).
  int64_t steps = explain::MorphOptions(0).steps();
  double step_size = explain::MorphOptions(0).step_size();
  std::string norm = explain::morph_norm_names()[size_t(explain::MorphOptions(0).norm())];
  double eps = explain::MorphOptions(0).eps();
  double stop_probability = explain::MorphOptions(0).stop_probability();
  std::string out = "morph.gif";
};

void run_morph(const MorphArgs& a) {
  const std::string extension = std::filesystem::path(a.out).extension().string();
  check_output_file("--out", a.out, {".gif", ".png"});
  check_model_args(a.model);
  Session m = open_session(a.model, &a.inputs, false);
  GLASSBOX_CHECK(m.inputs.x.size(0) == 1, "--index ", a.inputs.index, ": morph takes one sample");
  GLASSBOX_CHECK(a.target < m.model->num_classes(), "--target ", a.target, ": out of range, the model has ",
                 m.model->num_classes(), " classes (0..", m.model->num_classes() - 1, ")");
  const at::Tensor& x = m.inputs.x;
  const explain::MorphTrajectory t = explain::morph(m.model->network(), m.model->spec(), x,
                                                    explain::MorphOptions(a.target)
                                                        .steps(a.steps)
                                                        .step_size(a.step_size)
                                                        .norm(explain::parse_morph_norm(a.norm))
                                                        .eps(a.eps)
                                                        .stop_probability(a.stop_probability));
  const std::vector<std::string>& names = m.model->spec().class_names();
  write_output(a.out, extension == ".gif" ? explain::render_morph_gif(t, a.target, names)
                                               : explain::render_morph_summary(t, a.target, names));
  const auto name = [&](int64_t c) { return terminal_text(m.model->class_name(c)); };
  std::printf("morph to %s: %zu steps, sees %s -> %s, p(target) %.3f -> %.3f%s: %s\n", name(a.target).c_str(),
              t.frames.size() - 1, name(t.predicted.front()).c_str(), name(t.predicted.back()).c_str(),
              t.target_probability.front(), t.target_probability.back(), t.reached ? "" : " (not reached)", terminal_text(a.out).c_str());
}

}  // namespace

Run add_morph_command(CLI::App& app) {
  auto a = std::make_shared<MorphArgs>();
  CLI::App* cmd = app.add_subcommand("morph", "Morph an input toward a class by gradient ascent");
  add_model_options(*cmd, a->model);
  add_input_options(*cmd, a->inputs, false);
  add_integer(*cmd, "--target", a->target, 0, models::kMaxClasses - 1, "the class to morph toward")->required();
  add_integer(*cmd, "--steps", a->steps, 1, 100000, "at most this many steps");
  add_real(*cmd, "--step-size", a->step_size, [](double v) { return v > 0; }, "a finite number > 0",
           "per-pixel step (RMS for l2, max for linf), pixels in [0, 1]");
  cmd->add_option("--norm", a->norm, "l2 or linf")->check(CLI::IsMember(explain::morph_norm_names()))->capture_default_str();
  add_real(*cmd, "--eps", a->eps, [](double v) { return v >= 0; }, "a finite number >= 0",
           "budget around the start, in --norm (0 = none)");
  add_real(*cmd, "--stop-probability", a->stop_probability, [](double v) { return v > 0 && v <= 1; },
           "a probability in (0, 1]", "stop once the target has this probability");
  cmd->add_option("--out", a->out, "an animated .gif, or a .png of start, end and change")->capture_default_str();
  return [a] { run_morph(*a); };
}

}  // namespace glassbox::cli
