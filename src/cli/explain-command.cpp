// glassbox explain: what in these inputs makes the model see a class. Dataset samples (--index 17,
// 0:64 or 3,8,21) or image files (--image a.png b.jpg), run as one batch: one figure per sample, one
// tensor file for the batch. --target top2 draws the seed's 2x3 figure for the two classes a sample is
// torn between.
#include <ATen/ATen.h>
#include <CLI/CLI.hpp>
#include <torch/csrc/autograd/grad_mode.h>
#include <torch/csrc/jit/serialization/pickle.h>

#include <cstdio>
#include <filesystem>

#include "commands.h"
#include "distributed-flags.h"
#include "glassbox/distributed/world.h"
#include "flags.h"
#include "glassbox/explain/attribution-display.h"
#include "glassbox/explain/layer-attribution.h"
#include "glassbox/explain/methods.h"
#include "glassbox/explain/figures.h"
#include "glassbox/models/model-options.h"
#include "glassbox/util/error.h"
#include "glassbox/util/terminal-text.h"
#include "model-source.h"
#include "outputs.h"

namespace glassbox::cli {
namespace {

struct ExplainArgs {
  ModelArgs model;
  InputArgs inputs;
  std::string method = "saliency";
  std::string target = "top2";
  double k = 3;
  std::string out = "explain.png";
  std::string save_tensor;
  // The library's defaults (attribution.h, attribution-display.h, figures.h).
  std::string score = explain::score_names()[size_t(explain::AttributeOptions().score())];
  int64_t n_steps = explain::IntegratedGradientsOptions().n_steps();
  std::string ig_method = explain::integration_rule_name(explain::IntegratedGradientsOptions().method());
  int64_t internal_batch_size = explain::IntegratedGradientsOptions().internal_batch_size();
  std::string nt_type = explain::noise_tunnel_type_name(explain::NoiseTunnelOptions().nt_type());
  int64_t nt_samples = explain::NoiseTunnelOptions().nt_samples();
  double stdevs = explain::NoiseTunnelOptions().stdevs();
  int64_t window = explain::OcclusionOptions().window_h();
  int64_t stride = explain::OcclusionOptions().stride_h();
  std::string layer;
  bool no_relu = false;
  std::string sign = explain::attribution_sign_name(explain::AttributionFigureOptions().sign());
  double alpha = explain::AttributionFigureOptions().alpha();
  int panel_size = explain::AttributionFigureOptions().panel_size();
  DistributedArgs distributed;

  explain::AttributeOptions attribute_options() const {
    explain::LayerOptions layer_options = explain::LayerOptions().layer(layer).relu(!no_relu);
    if (internal_batch_size > 0) layer_options.internal_batch_size(internal_batch_size);
    return explain::AttributeOptions()
        .score(explain::parse_score(score))
        .integrated_gradients(explain::IntegratedGradientsOptions()
                                  .n_steps(n_steps)
                                  .method(for_flag("--ig-method", ig_method, [&] { return explain::parse_integration_rule(ig_method); }))
                                  .internal_batch_size(internal_batch_size))
        .noise_tunnel(explain::NoiseTunnelOptions()
                          .nt_type(for_flag("--nt-type", nt_type, [&] { return explain::parse_noise_tunnel_type(nt_type); }))
                          .nt_samples(nt_samples)
                          .stdevs(stdevs))
        .occlusion(explain::OcclusionOptions().window_h(window).window_w(window).stride_h(stride).stride_w(stride))
        .layer(layer_options);
  }
};

// Where sample i's figure goes: --out itself for one sample, else STEM-NAME.png beside it.
std::string figure_path(const std::string& out, const std::string& name, size_t count) {
  if (count == 1) return out;
  const std::filesystem::path p(out);
  std::string safe;
  for (char c : name) safe += std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ? c : '_';
  return (p.parent_path() / (p.stem().string() + "-" + safe + p.extension().string())).string();
}

void run_explain(const ExplainArgs& a) {
  // Bad method options and output locations fail before any work, and before any file is written.
  const explain::AttributionMethod& method =
      for_flag("--method", a.method, [&]() -> const explain::AttributionMethod& { return explain::find_attribution_method(a.method); });
  explain::AttributeOptions options = a.attribute_options();
  for_flag("--n-steps", std::to_string(a.n_steps), [&] {
    std::vector<double> alphas, weights;
    explain::integration_points(options.integrated_gradients().method(), a.n_steps, alphas, weights);
  });
  GLASSBOX_CHECK(a.layer.empty() || method.uses_layer(), "--layer ", printable_excerpt(a.layer), ": the method ",
                 method.name(), " works on the input, not on a layer");
  const explain::AttributionSign sign = for_flag("--sign", a.sign, [&] { return explain::parse_attribution_sign(a.sign); });
  const bool top2 = a.target == "top2", top = a.target == "top";
  const int64_t asked_target = top2 || top ? -1 : parse_integer("--target", a.target, 0, models::kMaxClasses - 1);
  check_output_file("--out", a.out, {".png"});
  if (!a.save_tensor.empty()) check_output_file("--save-tensor", a.save_tensor, {".pt"});
  check_model_args(a.model);
  const distributed::LaunchEnvironment env = start_ranks_or_continue(a.distributed);

  // Each rank on its own GPU with --device cuda.
  ModelArgs model_args = a.model;
  const c10::Device device = distributed::rank_device(a.model.device, env);
  model_args.device = device;
  Session s = open_session(model_args, &a.inputs, false);
  models::Classifier& model = s.model->network();
  const models::InputSpec& spec = s.model->spec();
  const at::Tensor& x = s.inputs.x;
  const int64_t B = x.size(0);
  at::Tensor logits;
  {
    torch::autograd::AutoGradMode no_grad(false);
    models::EvalModeGuard eval(model);
    logits = model.forward(x);
  }
  GLASSBOX_CHECK(at::isfinite(logits).all().item<bool>(), model.name(), ": non-finite logits (NaN or Inf) for these inputs");
  GLASSBOX_CHECK(asked_target < model.num_classes(), "--target ", asked_target, ": out of range, the model has ",
                 model.num_classes(), " classes (0..", model.num_classes() - 1, ")");
  if (method.uses_layer()) {
    // Without --layer, the CAM layer: the last whose output is N x C x H x W with H, W > 1; said aloud.
    const std::string layer = a.layer.empty()
                                  ? for_flag("--method", a.method, [&] { return explain::default_cam_layer(model); })
                                  : for_flag("--layer", a.layer, [&] { return explain::resolved_layer(model, options.layer()); });
    if (a.layer.empty() && env.rank == 0) std::printf("layer %s (the last whose output is N x C x H x W; --layer picks another)\n", terminal_text(layer).c_str());
    options.layer(explain::LayerOptions(options.layer()).layer(layer));
  }
  const at::Tensor probs = at::softmax(logits.to(at::kDouble), 1).to(at::kCPU);
  const at::Tensor ranked = std::get<1>(at::topk(logits, 2, 1));  // [B, 2]
  const at::Tensor targets = asked_target >= 0 ? at::full({B}, asked_target, ranked.options()) : ranked.select(1, 0).contiguous();
  // Each rank explains its block of the batch; rank 0 gathers the blocks and draws.
  const std::shared_ptr<distributed::Communicator> world = join_world(a.distributed, env, device);
  const at::Tensor attribution_cpu =
      for_flag("--layer", a.layer, [&] { return explain::attribute_across_ranks(method, {model, x, targets, options}, *world); });
  if (world->rank() != 0) return;
  std::vector<std::string> paths;
  for (int64_t i = 0; i < B; ++i) paths.push_back(figure_path(a.out, s.inputs.names[static_cast<size_t>(i)], size_t(B)));

  if (top2) {
    const at::Tensor labels = at::tensor(s.inputs.labels, at::kLong).to(x.device());
    const auto data = explain::confusion_figure_data(model, spec, x, labels, ranked.select(1, 0).contiguous(),
                                                     ranked.select(1, 1).contiguous(), a.k);
    for (int64_t i = 0; i < B; ++i) write_output(paths[size_t(i)], explain::render_confusion_figure(data[size_t(i)], a.panel_size));
  } else {
    const auto figures = explain::attribution_figure_data(*s.model, x, attribution_cpu, targets, method.name(), s.inputs.labels);
    for (int64_t i = 0; i < B; ++i) {
      write_output(paths[size_t(i)],
                   explain::render_attribution_figure(
                       figures[size_t(i)], explain::AttributionFigureOptions()
                              .sign(sign)
                              .alpha(a.alpha)
                              .fade(!method.uses_layer())  // a CAM is blended everywhere, as show_cam_on_image
                              .panel_size(a.panel_size)));
    }
  }
  if (!a.save_tensor.empty()) {
    // torch.save's format (a zip holding a pickle), so that Python's torch.load reads it.
    const std::vector<char> bytes = torch::jit::pickle_save(c10::IValue(attribution_cpu.contiguous()));
    write_output(a.save_tensor, std::string(bytes.begin(), bytes.end()));
  }
  for (int64_t i = 0; i < B; ++i) {
    const int64_t t = targets[i].item<int64_t>(), p = probs[i].argmax().item<int64_t>();
    std::printf("%s %s: sees %s %.3f; %s for class %s (%lld): %s\n", s.inputs.labels[size_t(i)] >= 0 ? "sample" : "image",
                terminal_text(s.inputs.names[size_t(i)]).c_str(), terminal_text(spec.class_name(p)).c_str(),
                probs[i][p].item<double>(), method.name(), terminal_text(spec.class_name(t)).c_str(),
                static_cast<long long>(t), terminal_text(paths[size_t(i)]).c_str());
  }
}

}  // namespace

Run add_explain_command(CLI::App& app) {
  auto a = std::make_shared<ExplainArgs>();
  CLI::App* cmd = app.add_subcommand("explain", "Show what in inputs makes the model see a class");
  add_model_options(*cmd, a->model);
  add_input_options(*cmd, a->inputs, true);
  std::string methods_help = "the attribution method:";
  for (const explain::AttributionMethod* m : explain::attribution_methods())
    methods_help += std::string("\n  ") + m->name() + ": " + m->help();
  cmd->add_option("--method", a->method, methods_help)->capture_default_str();
  cmd->add_option("--layer", a->layer,
                  "layer methods: the layer (glassbox layers lists them); default: the last whose output is N x C x H x W");
  cmd->add_flag("--no-relu", a->no_relu, "CAMs: keep negative values (Captum's LayerGradCam default)");
  cmd->add_option("--target", a->target,
                  "a class index; top: each sample's top class; top2: the seed's 2x3 figure for the two top classes")
      ->capture_default_str();
  add_real(*cmd, "--projection-factor", a->k, [](double v) { return v >= 0; }, "a finite number >= 0",
           "k in x + k * gradient (top2 figure)");
  cmd->add_option("--out", a->out, "the figure (PNG); with several samples, OUT-NAME.png for each")->capture_default_str();
  cmd->add_option("--score", a->score, "what is differentiated: logit, log_softmax or probability")
      ->check(CLI::IsMember(explain::score_names()))
      ->capture_default_str();
  add_integer(*cmd, "--n-steps", a->n_steps, 1, explain::kMaxIntegrationSteps, "ig: integration steps");
  cmd->add_option("--ig-method", a->ig_method,
                  "ig: gausslegendre, riemann_left, riemann_right, riemann_middle, riemann_trapezoid")
      ->check(CLI::IsMember(explain::integration_rule_names()))
      ->capture_default_str();
  add_integer(*cmd, "--internal-batch-size", a->internal_batch_size, 0, 1 << 20,
              "ig, layer_ig: rows per pass (0 = one copy of the batch); scorecam: masked inputs per pass (0 = 32)");
  cmd->add_option("--nt-type", a->nt_type, "smoothgrad: smoothgrad, smoothgrad_sq or vargrad")
      ->check(CLI::IsMember(explain::noise_tunnel_type_names()))
      ->capture_default_str();
  add_integer(*cmd, "--nt-samples", a->nt_samples, 1, 10000, "smoothgrad: noisy samples");
  add_real(*cmd, "--stdevs", a->stdevs, [](double v) { return v >= 0; }, "a finite number >= 0",
           "smoothgrad: noise standard deviation (absolute)");
  add_integer(*cmd, "--window", a->window, 1, 1 << 16, "occlusion: square window side");
  add_integer(*cmd, "--stride", a->stride, 1, 1 << 16, "occlusion: window stride");
  cmd->add_option("--sign", a->sign,
                  "how the map shows the attribution (Captum's visualize_image_attr): auto, all, positive, negative, "
                  "absolute_value")
      ->capture_default_str();
  add_real(*cmd, "--alpha", a->alpha, [](double v) { return v >= 0 && v <= 1; }, "a number in [0, 1]",
           "the heat map's weight over the image");
  add_integer(*cmd, "--panel-size", a->panel_size, 64, 2048, "each picture's longer side in the figure, in pixels");
  cmd->add_option("--save-tensor", a->save_tensor, "also save the attributions [B, C, H, W] (.pt) for Python's torch.load");
  add_distributed_options(*cmd, a->distributed, false);
  return [a] { run_explain(*a); };
}

}  // namespace glassbox::cli
