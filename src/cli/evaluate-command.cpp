// glassbox evaluate: which explanation can be trusted on this model. Methods x metrics over dataset
// samples (--index 0:64) or image files: the table on the terminal, and in --out the JSON
// (evaluation.json), the curves (curves.png) and the randomisation test's maps (mprt.png).
#include <ATen/ATen.h>
#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>

#include "commands.h"
#include "distributed-flags.h"
#include "flags.h"
#include "glassbox/evaluate/evaluation.h"
#include "glassbox/util/atomic-file.h"
#include "glassbox/util/error.h"
#include "glassbox/util/output-paths.h"
#include "glassbox/util/terminal-text.h"
#include "model-source.h"

namespace glassbox::cli {
namespace {

struct EvaluateArgs {
  ModelArgs model;
  InputArgs inputs;
  std::string methods = "saliency,ig,gradcam";
  std::string metrics = "deletion,insertion,road,infidelity,gini";
  std::string target = "top";
  std::string percentages;
  std::string out = "evaluation";
  explain::AttributeOptions attribute;
  evaluate::EvaluateOptions evaluate;
  int64_t n_perturb_samples = 10;
  uint64_t seed = 0;
  DistributedArgs distributed;
};

const ParamFlags kParamFlags = {
    {"methods", "--methods"},         {"metrics", "--metrics"},
    {"method", "--methods"},          {"metric", "--metrics"},
    {"target", "--target"},           {"layer", "--layer"},
    {"n_steps", "--n-steps"},         {"steps", "--steps"},
    {"percentages", "--percentages"}, {"noise", "--road-noise"},
    {"n_perturb_samples", "--n-perturb-samples"}, {"stdev", "--stdev"},
    {"perturb_radius", "--perturb-radius"},       {"max_steps", "--max-steps"},
    {"pass_below", "--pass-below"},   {"perturbations_per_eval", "--perturbations-per-eval"},
    {"blur_kernel", "--blur-kernel"}, {"blur_nsig", "--blur-nsig"}};

void run_evaluate(EvaluateArgs& a) {
  // Every option is checked, and the output location, before the model is read or anything written.
  const std::vector<std::string> methods = split_commas(a.methods), metrics = split_commas(a.metrics);
  evaluate::EvaluateOptions& o = a.evaluate;
  if (!a.percentages.empty()) o.road().percentages(parse_reals("--percentages", a.percentages));
  o.infidelity().n_perturb_samples(a.n_perturb_samples).seed(a.seed);
  o.sensitivity().n_perturb_samples(a.n_perturb_samples).seed(a.seed);
  o.road().seed(a.seed);
  o.randomisation().seed(a.seed);
  for_params(kParamFlags, [&] { evaluate::check_evaluation_request(methods, metrics, o); });
  bool any_layer = false;
  for (const std::string& m : methods) any_layer = any_layer || explain::find_attribution_method(m).uses_layer();
  GLASSBOX_CHECK(a.attribute.layer().layer().empty() || any_layer, "--layer ", printable_excerpt(a.attribute.layer().layer()),
                 ": none of the methods ", printable_excerpt(a.methods), " works on a layer");
  const explain::Target target = for_params(kParamFlags, [&] { return explain::parse_target(a.target); });
  GLASSBOX_CHECK(target.kind != explain::Target::Kind::top2, "--target top2: evaluate explains one class per sample; expected top or a class index");
  for_params(kParamFlags, [&] {
    std::vector<double> alphas, weights;
    explain::integration_points(a.attribute.integrated_gradients().method(), a.attribute.integrated_gradients().n_steps(), alphas, weights);
  });
  check_output_directory("--out", a.out);
  check_model_args(a.model);
  const distributed::LaunchEnvironment env = start_ranks_or_continue(a.distributed);

  ModelArgs model_args = a.model;
  model_args.device = distributed::rank_device(a.model.device, env);
  const Session s = open_session(model_args, &a.inputs, false);
  const std::shared_ptr<distributed::Communicator> world = join_world(a.distributed, env, model_args.device);
  const evaluate::Evaluation ev = for_params(kParamFlags, [&] {
    return evaluate::evaluate_methods(*s.model, s.inputs.x, methods, metrics,
                                      explain::ExplainOptions().target(target).attribute(a.attribute), o, world.get());
  });
  if (world->rank() != 0) return;
  for (const evaluate::MethodEvaluation& m : ev.methods)
    if (!m.layer.empty()) std::printf("%s: layer %s\n", m.method.c_str(), terminal_text(m.layer).c_str());
  std::fputs(evaluate::evaluation_table(ev).c_str(), stdout);  // names from the registries only
  ensure_writable_directory(a.out);
  const std::filesystem::path dir(a.out);
  write_file_atomically((dir / "evaluation.json").string(), evaluate::evaluation_json(ev, s.inputs.names, o));
  std::printf("wrote %s", terminal_text((dir / "evaluation.json").string()).c_str());
  const std::string curves = evaluate::render_evaluation_curves(ev, "mean over " + std::to_string(s.inputs.x.size(0)) + " samples");
  if (!curves.empty()) {
    write_file_atomically((dir / "curves.png").string(), curves);
    std::printf(", %s", terminal_text((dir / "curves.png").string()).c_str());
  }
  const std::string strip = evaluate::render_randomisation_strip(ev, s.model->to_display(s.inputs.x).to(at::kCPU));
  if (!strip.empty()) {
    write_file_atomically((dir / "mprt.png").string(), strip);
    std::printf(", %s", terminal_text((dir / "mprt.png").string()).c_str());
  }
  std::printf("\n");
}

}  // namespace

Run add_evaluate_command(CLI::App& app) {
  auto a = std::make_shared<EvaluateArgs>();
  CLI::App* cmd = app.add_subcommand("evaluate", "Measure how faithful explanations are: methods x metrics, with sanity checks");
  add_model_options(*cmd, a->model);
  add_input_options(*cmd, a->inputs, true);
  std::string methods_help = "attribution methods, comma-separated (input methods and CAMs):";
  for (const explain::AttributionMethod* m : explain::attribution_methods())
    if (!m->uses_layer() || m->reads_map()) methods_help += std::string("\n  ") + m->name();
  cmd->add_option("--methods", a->methods, methods_help)->capture_default_str();
  std::string metrics_help = "metrics, comma-separated:";
  for (const evaluate::Metric* m : evaluate::metrics()) metrics_help += std::string("\n  ") + m->name() + ": " + m->help();
  cmd->add_option("--metrics", a->metrics, metrics_help)->capture_default_str();
  cmd->add_option("--target", a->target, "the class explained: top (each sample's most likely) or a class index")->capture_default_str();
  cmd->add_option("--out", a->out, "the directory for evaluation.json, curves.png and mprt.png")->capture_default_str();
  explain::AttributeOptions& ao = a->attribute;
  evaluate::EvaluateOptions& o = a->evaluate;
  cmd->add_option("--layer", ao.layer().layer(), "CAMs: the layer (default: the last that reads as a map and whose positions the score depends on)");
  add_choice(*cmd, "--score", ao.score(), explain::score_names(), "what the methods differentiate");
  add_integer(*cmd, "--n-steps", ao.integrated_gradients().n_steps(), 1, explain::kMaxIntegrationSteps, "ig: integration steps");
  add_integer(*cmd, "--nt-samples", ao.noise_tunnel().nt_samples(), 1, 10000, "smoothgrad: noisy samples");
  add_integer(*cmd, "--steps", o.pixel_flipping().steps(), 1, 100000, "deletion, insertion: steps of the curve");
  add_choice(*cmd, "--deletion-substitute", o.pixel_flipping().deletion_substitute(), evaluate::substitute_names(),
             "deletion: what replaces removed pixels (in the model's input space)");
  add_choice(*cmd, "--insertion-substitute", o.pixel_flipping().insertion_substitute(), evaluate::substitute_names(),
             "insertion: what stands for pixels not yet revealed");
  add_integer(*cmd, "--blur-kernel", o.pixel_flipping().blur_kernel(), 1, 255, "blur substitute: kernel taps (odd)");
  add_real(*cmd, "--blur-nsig", o.pixel_flipping().blur_nsig(), [](double v) { return v > 0 && v <= 40; }, "a number in (0, 40]",
           "blur substitute: standard deviations the kernel spans (RISE's gkern)");
  cmd->add_option("--percentages", a->percentages, "road: percentages of pixels removed, comma-separated (default 10,...,90)");
  add_real(*cmd, "--road-noise", o.road().noise(), [](double v) { return v >= 0; }, "a finite number >= 0",
           "road: noise on the imputed pixels (absolute)");
  add_integer(*cmd, "--n-perturb-samples", a->n_perturb_samples, 1, 1 << 16, "infidelity, sensitivity: perturbations per sample");
  add_real(*cmd, "--stdev", o.infidelity().stdev(), [](double v) { return v > 0; }, "a finite number > 0",
           "infidelity: the Gaussian perturbation's standard deviation");
  cmd->add_flag("--infidelity-normalize", o.infidelity().normalize(), "infidelity: scale the attributions to fit the effects first (Captum's normalize)");
  add_real(*cmd, "--perturb-radius", o.sensitivity().perturb_radius(), [](double v) { return v > 0; }, "a finite number > 0",
           "sensitivity: the uniform noise's radius");
  add_choice(*cmd, "--randomisation", o.randomisation().order(), evaluate::randomisation_order_names(),
             "mprt: randomise layers cumulatively from the logits down, or one at a time");
  add_integer(*cmd, "--max-steps", o.randomisation().max_steps(), 0, 10000, "mprt: at most this many steps (layers grouped); 0: one per layer");
  add_real(*cmd, "--pass-below", o.randomisation().pass_below(), [](double v) { return v >= -1 && v <= 1; }, "a number in [-1, 1]",
           "mprt, random_logit: the similarity below which the test passes");
  add_integer(*cmd, "--perturbations-per-eval", o.perturbations_per_eval(), 0, 1 << 16,
              "perturbed inputs per forward pass (memory bound); 0: as many as hold 65,536 input values (2^23 on a GPU)");
  add_unsigned(*cmd, "--seed", a->seed, "the random draws' seed (noise, perturbations, randomised weights, random classes)");
  add_distributed_options(*cmd, a->distributed, false);
  return [a] { run_evaluate(*a); };
}

}  // namespace glassbox::cli
