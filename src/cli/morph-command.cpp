// glassbox morph: change an input step by step until the model sees the target class; an animated GIF
// of the trajectory (or a PNG of its start, end and change).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>

#include "commands.h"
#include "glassbox/explain/figures.h"
#include "glassbox/explain/morph.h"
#include "glassbox/models/model-options.h"
#include "glassbox/util/atomic-file.h"
#include "glassbox/util/error.h"
#include "glassbox/util/output-paths.h"
#include "glassbox/util/terminal-text.h"
#include "flags.h"
#include "model-source.h"

namespace glassbox::cli {
namespace {

// The flags bind to the library's options: their defaults are the library's (morph.h).
struct MorphArgs {
  ModelArgs model;
  InputArgs inputs;
  explain::MorphOptions morph{0};
  std::string out = "morph.gif";
  bool untargeted = false;
  bool no_random_start = false;
};

void run_morph(MorphArgs& a) {
  a.morph.targeted(!a.untargeted).random_start(!a.no_random_start);
  GLASSBOX_CHECK(a.morph.engine() == explain::MorphEngine::gradient || a.morph.eps() > 0, "--eps ", a.morph.eps(),
                 ": --engine ", explain::morph_engine_names()[size_t(a.morph.engine())], " needs a budget > 0");
  const int64_t target = a.morph.target();
  const std::string extension = std::filesystem::path(a.out).extension().string();
  check_output_file("--out", a.out, {".gif", ".png"});
  check_model_args(a.model);
  Session m = open_session(a.model, &a.inputs, false);
  GLASSBOX_CHECK(m.inputs.x.size(0) == 1, "--index ", a.inputs.index, ": morph takes one sample");
  GLASSBOX_CHECK(target < m.model->num_classes(), "--target ", target, ": out of range, the model has ",
                 m.model->num_classes(), " classes (0..", m.model->num_classes() - 1, ")");
  const at::Tensor& x = m.inputs.x;
  const explain::MorphTrajectory t = explain::morph(m.model->network(), m.model->spec(), x, a.morph);
  const std::vector<std::string>& names = m.model->spec().class_names();
  write_file_atomically(a.out, extension == ".gif" ? explain::render_morph_gif(t, target, names)
                                               : explain::render_morph_summary(t, target, names));
  const auto name = [&](int64_t c) { return terminal_text(m.model->class_name(c)); };
  std::printf("morph %s %s: %zu steps, sees %s -> %s, p(target) %.3f -> %.3f%s: %s\n", a.untargeted ? "away from" : "to", name(target).c_str(),
              t.frames.size() - 1, name(t.predicted.front()).c_str(), name(t.predicted.back()).c_str(),
              t.target_probability.front(), t.target_probability.back(), t.reached ? "" : " (not reached)", terminal_text(a.out).c_str());
}

}  // namespace

Run add_morph_command(CLI::App& app) {
  auto a = std::make_shared<MorphArgs>();
  CLI::App* cmd = app.add_subcommand("morph", "Morph an input toward a class by gradient ascent");
  add_model_options(*cmd, a->model);
  add_input_options(*cmd, a->inputs, false);
  explain::MorphOptions& o = a->morph;
  add_integer(*cmd, "--target", o.target(), 0, models::kMaxClasses - 1,
              "the class to morph toward (with --untargeted: away from)")->required();
  add_choice(*cmd, "--engine", o.engine(), explain::morph_engine_names(),
             "gradient: steps along the score's gradient; fgsm: one signed step of --eps; pgd: projected gradient descent "
             "in the --eps ball (both on the cross-entropy, as torchattacks)");
  cmd->add_flag("--untargeted", a->untargeted, "move away from --target (the input's class) rather than toward it");
  cmd->add_flag("--no-random-start", a->no_random_start, "pgd: start at the input, not at a random point of the ball");
  add_unsigned(*cmd, "--seed", o.seed(), "pgd: the random start's seed");
  add_integer(*cmd, "--steps", o.steps(), 1, 100000, "at most this many steps");
  add_real(*cmd, "--step-size", o.step_size(), [](double v) { return v > 0; }, "a finite number > 0",
           "per-pixel step (RMS for l2, max for linf), pixels in [0, 1]");
  add_choice(*cmd, "--norm", o.norm(), explain::morph_norm_names(), "how a step and the budget are measured");
  add_real(*cmd, "--eps", o.eps(), [](double v) { return v >= 0; }, "a finite number >= 0",
           "budget around the start, in --norm (0 = none)");
  add_real(*cmd, "--stop-probability", o.stop_probability(), [](double v) { return v > 0 && v <= 1; },
           "a probability in (0, 1]", "stop once the target has this probability");
  cmd->add_option("--out", a->out, "an animated .gif, or a .png of start, end and change")->capture_default_str();
  return [a] { run_morph(*a); };
}

}  // namespace glassbox::cli
