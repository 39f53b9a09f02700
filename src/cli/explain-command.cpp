// glassbox explain: what in this input makes the model see a class. One sample (dataset index or PNG),
// one method, a figure; --target top2 draws the seed's 2x3 figure for the two classes it is torn between.
#include <ATen/ATen.h>
#include <CLI/CLI.hpp>
#include <torch/csrc/autograd/grad_mode.h>
#include <torch/csrc/jit/serialization/pickle.h>

#include <fmt/format.h>

#include <cstdio>

#include "commands.h"
#include "glassbox/explain/attribution.h"
#include "glassbox/explain/figures.h"
#include "glassbox/models/model-options.h"
#include "glassbox/render/figure.h"
#include "glassbox/util/error.h"
#include "flags.h"
#include "model-source.h"
#include "outputs.h"

namespace glassbox::cli {
namespace {

struct ExplainArgs {
  ModelArgs model;
  int64_t index = 0;
  std::string image;
  std::string method = "saliency";
  std::string target = "top2";
  double k = 3;
  std::string out = "explain.png";
  std::string save_tensor;
  std::string score = "logit";
  int64_t n_steps = 50;
  std::string ig_method = "gausslegendre";
  int64_t internal_batch_size = 0;
  std::string nt_type = "smoothgrad";
  int64_t nt_samples = 10;
  double stdevs = 0.15;
  int64_t window = 4;
  int64_t stride = 2;

  explain::AttributeOptions attribute_options() const {
    return explain::AttributeOptions()
        .score(explain::parse_score(score))
        .integrated_gradients(explain::IntegratedGradientsOptions()
                                  .n_steps(n_steps)
                                  .method(ig_method)
                                  .internal_batch_size(internal_batch_size))
        .noise_tunnel(explain::NoiseTunnelOptions().nt_type(nt_type).nt_samples(nt_samples).stdevs(stdevs))
        .occlusion(explain::OcclusionOptions().window_h(window).window_w(window).stride_h(stride).stride_w(stride));
  }
};

void run_explain(const ExplainArgs& a) {
  // Bad method options and output locations fail before any work, and before any file is written.
  const explain::Method method = for_flag("--method", a.method, [&] { return explain::parse_method(a.method); });
  const explain::AttributeOptions options = a.attribute_options();  // --score, --ig-method, --nt-type: checked when read
  for_flag("--n-steps", std::to_string(a.n_steps), [&] {
    std::vector<double> alphas, weights;
    explain::integration_points(a.ig_method, a.n_steps, alphas, weights);
  });
  const bool top2 = a.target == "top2";
  const int64_t asked_target = top2 ? -1 : parse_integer("--target", a.target, 0, models::kMaxClasses - 1);
  check_output_file("--out", a.out, {".png"});
  if (!a.save_tensor.empty()) check_output_file("--save-tensor", a.save_tensor, {".pt"});
  LoadedModel m = load_model(a.model);
  int64_t label = -1;
  const at::Tensor x = load_sample(a.model, m, a.index, a.image, label);
  at::Tensor logits;
  {
    torch::autograd::AutoGradMode no_grad(false);
    models::EvalModeGuard eval(*m.model);
    logits = m.model->forward(x);
  }
  GLASSBOX_CHECK(at::isfinite(logits).all().item<bool>(), m.model->name(), ": non-finite logits (NaN or Inf) for this input");
  const at::Tensor top = std::get<1>(at::topk(logits, 2, 1))[0];
  const auto name = [&](int64_t c) { return explain::class_name(m.class_names, c); };

  at::Tensor attribution;
  int64_t target;
  if (top2) {
    target = top[0].item<int64_t>();
    const auto data = explain::confusion_figure_data(*m.model, x, at::full({1}, label, x.options().dtype(at::kLong)), top.narrow(0, 0, 1),
                                                     top.narrow(0, 1, 1), a.k, m.normalization, m.class_names);
    attribution = explain::attribute(method, *m.model, x, top.narrow(0, 0, 1), options);
    write_output(a.out, explain::render_confusion_figure(data[0]));
  } else {
    target = asked_target;
    GLASSBOX_CHECK(target >= 0 && target < m.model->num_classes(), "--target ", target, ": out of range, the model has ",
                   m.model->num_classes(), " classes (0..", m.model->num_classes() - 1, ")");
    attribution = explain::attribute(method, *m.model, x, at::full({1}, target, x.options().dtype(at::kLong)), options);
    const at::Tensor display = m.normalization.invert(x)[0].to(at::kCPU);
    const at::Tensor probs = at::softmax(logits, 1)[0].to(at::kCPU);
    render::Figure fig(1, 3, render::FigureOptions().panel_size(140));
    fig.at(0, 0).title = fmt::format("{}{}: sees {} {:.2f}", label >= 0 ? "true " : "", label >= 0 ? name(label) : "input",
                                     name(top[0].item<int64_t>()), probs[top[0]].item<double>());
    fig.at(0, 0).image = explain::to_plane(display);
    fig.at(0, 0).colormap = render::Colormap::gray;
    fig.at(0, 0).vmin = 0.0;
    fig.at(0, 0).vmax = 1.0;
    render::Panel& attr = fig.at(0, 1);
    attr.title = std::string(explain::method_name(method)) + " for " + name(target);
    attr.image = explain::signed_plane(attribution[0].to(at::kCPU));
    const bool nonnegative = attribution.min().item<double>() >= 0;
    attr.colormap = nonnegative ? render::Colormap::viridis : render::Colormap::diverging;
    attr.symmetric = !nonnegative;
    render::Panel& overlay = fig.at(0, 2);
    overlay.title = "over the input";
    overlay.image = explain::to_plane(display);
    overlay.colormap = render::Colormap::gray;
    overlay.vmin = 0.0;
    overlay.vmax = 1.0;
    overlay.colorbar = false;
    overlay.overlay = explain::signed_plane(attribution[0]);
    write_output(a.out, fig.to_png());
  }
  if (!a.save_tensor.empty()) {
    // torch.save's format (a zip holding a pickle), so that Python's torch.load reads it.
    const std::vector<char> bytes = torch::jit::pickle_save(c10::IValue(attribution.detach().to(at::kCPU).contiguous()));
    write_output(a.save_tensor, std::string(bytes.begin(), bytes.end()));
  }
  std::printf("%s for class %s (%lld): %s\n", explain::method_name(method), name(target).c_str(),
              static_cast<long long>(target), a.out.c_str());
}

}  // namespace

Run add_explain_command(CLI::App& app) {
  auto a = std::make_shared<ExplainArgs>();
  CLI::App* cmd = app.add_subcommand("explain", "Show what in an input makes the model see a class");
  add_model_options(*cmd, a->model);
  add_integer(*cmd, "--index", a->index, 0, int64_t(1) << 40, "sample index in the split");
  cmd->add_option("--image", a->image, "a PNG file instead of a dataset sample");
  cmd->add_option("--method", a->method, "saliency, ixg, ig, smoothgrad or occlusion")->capture_default_str();
  cmd->add_option("--target", a->target, "a class index, or top2: the seed's 2x3 figure for the two top classes")
      ->capture_default_str();
  add_real(*cmd, "--projection-factor", a->k, [](double v) { return v >= 0; }, "a finite number >= 0",
           "k in x + k * gradient (top2 figure)");
  cmd->add_option("--out", a->out, "the figure (PNG)")->capture_default_str();
  cmd->add_option("--score", a->score, "what is differentiated: logit, log_softmax or probability")
      ->check(CLI::IsMember({"logit", "log_softmax", "probability"}))
      ->capture_default_str();
  add_integer(*cmd, "--n-steps", a->n_steps, 1, explain::kMaxIntegrationSteps, "ig: integration steps");
  cmd->add_option("--ig-method", a->ig_method,
                  "ig: gausslegendre, riemann_left, riemann_right, riemann_middle, riemann_trapezoid")
      ->check(CLI::IsMember({"gausslegendre", "riemann_left", "riemann_right", "riemann_middle", "riemann_trapezoid"}))
      ->capture_default_str();
  add_integer(*cmd, "--internal-batch-size", a->internal_batch_size, 0, 1 << 20,
              "ig: rows per pass (0 = one copy of the batch)");
  cmd->add_option("--nt-type", a->nt_type, "smoothgrad: smoothgrad, smoothgrad_sq or vargrad")
      ->check(CLI::IsMember({"smoothgrad", "smoothgrad_sq", "vargrad"}))
      ->capture_default_str();
  add_integer(*cmd, "--nt-samples", a->nt_samples, 1, 10000, "smoothgrad: noisy samples");
  add_real(*cmd, "--stdevs", a->stdevs, [](double v) { return v >= 0; }, "a finite number >= 0",
           "smoothgrad: noise standard deviation (absolute)");
  add_integer(*cmd, "--window", a->window, 1, 1 << 16, "occlusion: square window side");
  add_integer(*cmd, "--stride", a->stride, 1, 1 << 16, "occlusion: window stride");
  cmd->add_option("--save-tensor", a->save_tensor, "also save the attribution tensor (.pt) for Python's torch.load");
  return [a] { run_explain(*a); };
}

}  // namespace glassbox::cli
