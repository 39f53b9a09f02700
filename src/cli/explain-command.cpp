// glassbox explain: what in these inputs makes the model see a class. Dataset samples (--index 17,
// 0:64 or 3,8,21) or image files (--image a.png b.jpg), run as one batch: one figure per sample, one
// tensor file for the batch. --target top2 draws the seed's 2x3 figure for the two classes a sample is
// torn between.
#include <ATen/ATen.h>
#include <CLI/CLI.hpp>
#include <torch/csrc/jit/serialization/pickle.h>

#include <cstdio>
#include <filesystem>

#include "commands.h"
#include "distributed-flags.h"
#include "flags.h"
#include "glassbox/explain/explanation.h"
#include "glassbox/explain/figures.h"
#include "glassbox/util/atomic-file.h"
#include "glassbox/util/error.h"
#include "glassbox/util/output-paths.h"
#include "glassbox/util/terminal-text.h"
#include "model-source.h"

namespace glassbox::cli {
namespace {

// The flags bind to the library's option structs: their defaults are the library's.
struct ExplainArgs {
  ModelArgs model;
  InputArgs inputs;
  std::string method = "saliency";
  std::string target = "top2";
  double k = 3;
  std::string out = "explain.png";
  std::string save_tensor;
  explain::AttributeOptions attribute;
  int64_t internal_batch_size = 0;  // ig's and layer methods' batch bound, when given
  int64_t window = explain::OcclusionOptions().window_h();
  int64_t stride = explain::OcclusionOptions().stride_h();
  bool no_relu = false;
  explain::AttributionFigureOptions figure;
  DistributedArgs distributed;
};

const ParamFlags kParamFlags = {{"method", "--method"}, {"target", "--target"}, {"layer", "--layer"},
                                {"n_steps", "--n-steps"}, {"sign", "--sign"}};

// Where sample i's figure goes: --out itself for one sample, else STEM-NAME.png beside it.
std::string figure_path(const std::string& out, const std::string& name, size_t count) {
  if (count == 1) return out;
  const std::filesystem::path p(out);
  std::string safe;
  for (char c : name) safe += std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ? c : '_';
  return (p.parent_path() / (p.stem().string() + "-" + safe + p.extension().string())).string();
}

void run_explain(ExplainArgs& a) {
  // Bad method options and output locations fail before any work, and before any file is written.
  const explain::AttributionMethod& method =
      for_params(kParamFlags, [&]() -> const explain::AttributionMethod& { return explain::find_attribution_method(a.method); });
  explain::AttributeOptions& o = a.attribute;
  o.occlusion().window_h(a.window).window_w(a.window).stride_h(a.stride).stride_w(a.stride);
  o.layer().relu(!a.no_relu);
  o.deeplift().seed(o.noise_tunnel().seed());
  o.perturbation().seed(o.noise_tunnel().seed());
  o.occlusion().perturbations_per_eval(o.perturbation().perturbations_per_eval());
  if (a.internal_batch_size > 0) o.integrated_gradients().internal_batch_size(a.internal_batch_size), o.layer().internal_batch_size(a.internal_batch_size);
  for_params(kParamFlags, [&] {
    std::vector<double> alphas, weights;
    explain::integration_points(o.integrated_gradients().method(), o.integrated_gradients().n_steps(), alphas, weights);
  });
  GLASSBOX_CHECK(o.layer().layer().empty() || method.uses_layer(), "--layer ", printable_excerpt(o.layer().layer()),
                 ": the method ", method.name(), " works on the input, not on a layer");
  const explain::Target target = for_params(kParamFlags, [&] { return explain::parse_target(a.target); });
  check_output_file("--out", a.out, {".png"});
  if (!a.save_tensor.empty()) check_output_file("--save-tensor", a.save_tensor, {".pt"});
  check_model_args(a.model);
  const distributed::LaunchEnvironment env = start_ranks_or_continue(a.distributed);

  // Each rank on its own GPU with --device cuda; each explains its block of the batch, rank 0 draws.
  ModelArgs model_args = a.model;
  model_args.device = distributed::rank_device(a.model.device, env);
  const Session s = open_session(model_args, &a.inputs, false);
  const at::Tensor& x = s.inputs.x;
  const std::shared_ptr<distributed::Communicator> world = join_world(a.distributed, env, model_args.device);
  const explain::Explanation e = for_params(kParamFlags, [&] {
    return explain::explain_batch(*s.model, x, method, explain::ExplainOptions().target(target).attribute(o), world.get());
  });
  if (world->rank() != 0) return;
  const std::string logits_source = s.model->network().logits_source();
  if (!logits_source.empty()) std::printf("logits: %s (--logits picks another)\n", terminal_text(logits_source).c_str());
  if (e.default_layer) std::printf("layer %s (the last that reads as a map and whose positions the score depends on; --layer picks another)\n", terminal_text(e.layer).c_str());
  if (e.reshaped) std::printf("layer %s %s (--layer-layout states another)\n", terminal_text(e.layer).c_str(), e.layer_reading.c_str());
  const int64_t B = x.size(0);
  std::vector<std::string> paths;
  for (int64_t i = 0; i < B; ++i) paths.push_back(figure_path(a.out, s.inputs.names[static_cast<size_t>(i)], size_t(B)));
  if (target.kind == explain::Target::Kind::top2) {
    const at::Tensor labels = at::tensor(s.inputs.labels, at::kLong).to(x.device());
    const auto data = explain::confusion_figure_data(s.model->network(), s.model->spec(), x, labels,
                                                     e.ranked.select(1, 0).contiguous(), e.ranked.select(1, 1).contiguous(), a.k);
    for (int64_t i = 0; i < B; ++i) write_file_atomically(paths[size_t(i)], explain::render_confusion_figure(data[size_t(i)], a.figure.panel_size()));
  } else {
    const at::Tensor& drawn = e.attribution_map.defined() ? e.attribution_map : e.attributions;
    const auto figures = explain::attribution_figure_data(*s.model, x, drawn, e.targets, method.name(), s.inputs.labels);
    a.figure.fade(!method.uses_layer() && !method.reads_map());  // a CAM is blended everywhere, as show_cam_on_image
    for (int64_t i = 0; i < B; ++i) write_file_atomically(paths[size_t(i)], explain::render_attribution_figure(figures[size_t(i)], a.figure));
  }
  if (!a.save_tensor.empty()) {
    // torch.save's format (a zip holding a pickle), so that Python's torch.load reads it.
    const std::vector<char> bytes = torch::jit::pickle_save(c10::IValue(e.attributions.contiguous()));
    write_file_atomically(a.save_tensor, std::string(bytes.begin(), bytes.end()));
  }
  for (int64_t i = 0; i < B; ++i) {
    const int64_t t = e.targets[i].item<int64_t>(), p = e.probabilities[i].argmax().item<int64_t>();
    std::printf("%s %s: sees %s %.3f; %s for class %s (%lld): %s\n", s.inputs.labels[size_t(i)] >= 0 ? "sample" : "image",
                terminal_text(s.inputs.names[size_t(i)]).c_str(), terminal_text(s.model->class_name(p)).c_str(),
                e.probabilities[i][p].item<double>(), method.name(), terminal_text(s.model->class_name(t)).c_str(),
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
  explain::AttributeOptions& o = a->attribute;
  cmd->add_option("--layer", o.layer().layer(),
                  "layer methods: the layer (glassbox layers lists them); default: the last that reads as a map and whose positions the score depends on");
  cmd->add_flag("--no-relu", a->no_relu, "CAMs: keep negative values (Captum's LayerGradCam default)");
  add_choice(*cmd, "--layer-layout", o.layer().layout(), explain::layer_layout_names(),
             "CAMs: how the layer's output is a map: nchw, nhwc (Swin), tokens (ViT: [B, prefix + h*w, C]); auto: from its shape");
  add_integer(*cmd, "--prefix-tokens", o.layer().prefix_tokens(), -1, 64,
              "CAMs on tokens: tokens before the patches (class, distillation, registers); -1: the fewest that leave a grid");
  cmd->add_option("--target", a->target,
                  "a class index; top: each sample's top class; top2: the seed's 2x3 figure for the two top classes")
      ->capture_default_str();
  add_real(*cmd, "--projection-factor", a->k, [](double v) { return v >= 0; }, "a finite number >= 0",
           "k in x + k * gradient (top2 figure)");
  cmd->add_option("--out", a->out, "the figure (PNG); with several samples, OUT-NAME.png for each")->capture_default_str();
  add_choice(*cmd, "--score", o.score(), explain::score_names(), "what is differentiated");
  add_integer(*cmd, "--n-steps", o.integrated_gradients().n_steps(), 1, explain::kMaxIntegrationSteps, "ig: integration steps");
  add_choice(*cmd, "--ig-method", o.integrated_gradients().method(), explain::integration_rule_names(), "ig: the integration rule");
  add_integer(*cmd, "--internal-batch-size", a->internal_batch_size, 0, 1 << 20,
              "ig, layer_ig: rows per pass (0 = one copy of the batch); scorecam: masked inputs per pass (0 = 32)");
  add_choice(*cmd, "--nt-type", o.noise_tunnel().nt_type(), explain::noise_tunnel_type_names(), "smoothgrad: how samples combine");
  add_integer(*cmd, "--nt-samples", o.noise_tunnel().nt_samples(), 1, 10000, "smoothgrad: noisy samples");
  add_real(*cmd, "--stdevs", o.noise_tunnel().stdevs(), [](double v) { return v >= 0; }, "a finite number >= 0",
           "smoothgrad: noise standard deviation (absolute)");
  add_unsigned(*cmd, "--seed", o.noise_tunnel().seed(), "smoothgrad, deeplift_shap, gradient_shap: the random draws' seed");
  add_real(*cmd, "--deeplift-baseline", o.deeplift().baseline(), [](double v) { return std::isfinite(v); }, "a finite number",
           "deeplift: the reference, a constant image of this value (in the model's input space)");
  add_integer(*cmd, "--n-baselines", o.deeplift().n_baselines(), 1, 1024,
              "deeplift_shap, gradient_shap: random references per sample, within its channels' ranges");
  add_integer(*cmd, "--shap-samples", o.deeplift().n_samples(), 1, 10000, "gradient_shap: random points per sample");
  add_real(*cmd, "--shap-stdevs", o.deeplift().stdevs(), [](double v) { return v >= 0; }, "a finite number >= 0",
           "gradient_shap: noise added to the input (standard deviation)");
  add_choice(*cmd, "--lrp-composite", o.lrp().composite(), explain::lrp_composite_names(),
             "lrp: the rules per layer (Zennit's composites: epsilon_gamma_box = epsilon dense, gamma conv, z^B input layer)");
  add_real(*cmd, "--lrp-epsilon", o.lrp().epsilon(), [](double v) { return v > 0; }, "a finite number > 0",
           "lrp: the epsilon rule's stabiliser");
  add_real(*cmd, "--lrp-gamma", o.lrp().gamma(), [](double v) { return v >= 0; }, "a finite number >= 0",
           "lrp: the gamma rule's weight on positive contributions");
  add_choice(*cmd, "--feature-mask", o.perturbation().feature_mask(), explain::feature_mask_kind_names(),
             "feature_ablation, feature_permutation, shapley_sampling, kernel_shap, lime: the features (grid cells, "
             "or each image's SLIC superpixels)");
  add_integer(*cmd, "--feature-size", o.perturbation().feature_size(), 1, 1 << 16,
              "the forward-only methods and rise: the side of the grid's cells, in pixels");
  add_integer(*cmd, "--n-segments", o.perturbation().slic().n_segments(), 1, 1 << 20,
              "--feature-mask superpixels: how many superpixels to aim for");
  add_real(*cmd, "--compactness", o.perturbation().slic().compactness(), [](double v) { return v > 0; },
           "a finite number > 0", "--feature-mask superpixels: SLIC's weight of space against colour");
  add_integer(*cmd, "--n-samples", o.perturbation().n_samples(), 1, 100000,
              "shapley_sampling: random orders; kernel_shap: coalitions; lime: random subsets");
  add_real(*cmd, "--lime-alpha", o.perturbation().lime_alpha(), [](double v) { return v >= 0; }, "a finite number >= 0",
           "lime: the ridge penalty of its linear fit");
  add_real(*cmd, "--lime-kernel-width", o.perturbation().lime_kernel_width(), [](double v) { return v > 0; },
           "a finite number > 0", "lime: the width of its proximity kernel");
  add_integer(*cmd, "--rise-masks", o.perturbation().rise_masks(), 1, 100000, "rise: random masks");
  add_real(*cmd, "--rise-probability", o.perturbation().rise_probability(), [](double v) { return v > 0 && v <= 1; },
           "a probability in (0, 1]", "rise: each cell's probability of being kept");
  add_integer(*cmd, "--perturbations-per-eval", o.perturbation().perturbations_per_eval(), 1, 1 << 16,
              "occlusion and the forward-only methods: perturbed copies of the batch per forward pass");
  add_integer(*cmd, "--window", a->window, 1, 1 << 16, "occlusion: square window side");
  add_integer(*cmd, "--stride", a->stride, 1, 1 << 16, "occlusion: window stride");
  add_choice(*cmd, "--sign", a->figure.sign(), explain::attribution_sign_names(),
             "how the map shows the attribution (Captum's visualize_image_attr)");
  add_real(*cmd, "--alpha", a->figure.alpha(), [](double v) { return v >= 0 && v <= 1; }, "a number in [0, 1]",
           "the heat map's weight over the image");
  add_integer(*cmd, "--panel-size", a->figure.panel_size(), 64, 2048, "each picture's longer side in the figure, in pixels");
  cmd->add_option("--save-tensor", a->save_tensor, "also save the attributions [B, C, H, W] (.pt) for Python's torch.load");
  add_distributed_options(*cmd, a->distributed, false);
  return [a] { run_explain(*a); };
}

}  // namespace glassbox::cli
