#include "glassbox/explain/figures.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <fmt/format.h>

#include "glassbox/explain/confusion.h"
#include "glassbox/render/figure.h"
#include "glassbox/render/gif.h"
#include "glassbox/util/error.h"

namespace glassbox::explain {
namespace {

render::Panel image_panel(const at::Tensor& chw, const std::string& title) {
  render::Panel p;
  p.title = title;
  p.image = to_plane(chw);
  p.colormap = render::Colormap::gray;
  if (p.image.channels == 1) p.vmin = 0.0, p.vmax = 1.0;
  return p;
}

render::Panel gradient_panel(const at::Tensor& g, const std::string& title) {
  render::Panel p;
  p.title = title;
  p.image = signed_plane(g);
  p.colormap = render::Colormap::diverging;
  p.symmetric = true;
  return p;
}

}  // namespace

std::string class_name(const std::vector<std::string>& names, int64_t c) {
  return c >= 0 && c < int64_t(names.size()) && !names[static_cast<size_t>(c)].empty() ? names[static_cast<size_t>(c)]
                                                                                      : std::to_string(c);
}

render::Plane to_plane(const at::Tensor& image) {
  at::Tensor t = image.detach().to(at::kCPU).to(at::kFloat);
  if (t.dim() == 2) t = t.unsqueeze(0);
  GLASSBOX_CHECK(t.dim() == 3, "figure: image ", image.sizes(), ", expected [C, H, W] or [H, W]");
  t = t.contiguous();
  render::Plane p;
  p.channels = static_cast<int>(t.size(0));
  p.height = static_cast<int>(t.size(1));
  p.width = static_cast<int>(t.size(2));
  p.data.assign(t.data_ptr<float>(), t.data_ptr<float>() + t.numel());
  return p;
}

render::Plane signed_plane(const at::Tensor& gradient) {
  at::Tensor g = gradient.detach();
  if (g.dim() == 3) g = g.sum(0);
  return to_plane(g);
}

std::vector<ConfusionFigureData> confusion_figure_data(models::Classifier& model, const models::InputSpec& spec,
                                                       const at::Tensor& x, const at::Tensor& labels,
                                                       const at::Tensor& class_a, const at::Tensor& class_b, double k,
                                                       Score score, bool skip_vanished) {
  const data::Normalization& normalization = spec.normalization();
  const std::vector<std::string>& class_names = spec.class_names();
  const int64_t B = x.size(0);
  std::vector<ConfusionFigureData> out;
  if (B == 0) return out;
  models::EvalModeGuard eval(model);
  const GradientResult ga = input_gradients(model, x, class_a, score);
  const GradientResult gb = input_gradients(model, x, class_b, score);
  // A gradient that is all zero (the seed's ReLU-dead logits) has nothing to show: with skip_vanished,
  // when no sample has anything to show, they are returned flagged without the projections (two
  // passes saved on every check of a callback that mostly finds dead ties).
  const at::Tensor alive = at::logical_not(
      at::logical_or(gradients_vanished(ga.gradients), gradients_vanished(gb.gradients))).to(at::kCPU);
  if (skip_vanished && !alive.any().item<bool>()) {
    const at::Tensor ca = class_a.to(at::kCPU), cb = class_b.to(at::kCPU);
    for (int64_t i = 0; i < B; ++i) {
      ConfusionFigureData d;
      d.class_a = ca[i].item<int64_t>();
      d.class_b = cb[i].item<int64_t>();
      d.vanished = true;
      out.push_back(std::move(d));
    }
    return out;
  }
  const at::Tensor probs = at::softmax(ga.logits.to(at::kDouble), 1);
  const at::Tensor proj_a = project(x, ga.gradients, k, normalization);
  const at::Tensor proj_b = project(x, gb.gradients, k, normalization);
  at::Tensor pa, pb;
  {
    torch::autograd::AutoGradMode no_grad(false);
    pa = at::softmax(model.forward(proj_a).to(at::kDouble), 1);
    pb = at::softmax(model.forward(proj_b).to(at::kDouble), 1);
  }
  const at::Tensor display = normalization.invert(x).to(at::kCPU);
  const at::Tensor da = normalization.invert(proj_a).to(at::kCPU), db = normalization.invert(proj_b).to(at::kCPU);
  const at::Tensor gca = ga.gradients.to(at::kCPU), gcb = gb.gradients.to(at::kCPU);
  const at::Tensor ca = class_a.to(at::kCPU), cb = class_b.to(at::kCPU);
  const at::Tensor lab = labels.defined() ? labels.to(at::kCPU) : at::Tensor();
  const at::Tensor pr = probs.to(at::kCPU), ppa = pa.to(at::kCPU), ppb = pb.to(at::kCPU);
  for (int64_t i = 0; i < B; ++i) {
    ConfusionFigureData d;
    d.x = display[i].clone();
    d.grad_a = gca[i].clone();
    d.grad_b = gcb[i].clone();
    d.proj_a = da[i].clone();
    d.proj_b = db[i].clone();
    d.label = lab.defined() ? lab[i].item<int64_t>() : -1;
    d.class_a = ca[i].item<int64_t>();
    d.class_b = cb[i].item<int64_t>();
    d.prob_a = pr[i][d.class_a].item<double>();
    d.prob_b = pr[i][d.class_b].item<double>();
    d.pred_a = ppa[i].argmax().item<int64_t>();
    d.pred_b = ppb[i].argmax().item<int64_t>();
    d.pred_a_prob = ppa[i][d.pred_a].item<double>();
    d.pred_b_prob = ppb[i][d.pred_b].item<double>();
    d.k = k;
    d.vanished = !alive[i].item<bool>();
    d.class_names = class_names;
    out.push_back(std::move(d));
  }
  return out;
}

namespace {

// A map over an image, blended with one weight everywhere (a CAM, as show_cam_on_image draws it).
render::Panel cam_panel(const at::Tensor& image, const at::Tensor& cam, const std::string& title) {
  // A CAM that is zero everywhere (after its ReLU) draws as the bare image: say so.
  render::Panel p = image_panel(image, cam.abs().max().item<double>() > 0 ? title : title + " (zero everywhere)");
  p.colorbar = false;
  p.overlay = signed_plane(cam);
  p.overlay_colormap = render::Colormap::viridis;
  p.overlay_signed = false;
  p.overlay_fade = false;
  p.overlay_alpha = 0.5;
  return p;
}

}  // namespace

std::string render_confusion_figure(const ConfusionFigureData& d, int panel_size) {
  const std::string a = class_name(d.class_names, d.class_a), b = class_name(d.class_names, d.class_b);
  const bool cams = d.cam_a.defined() && d.cam_b.defined();
  render::Figure fig(2, cams ? 4 : 3, render::FigureOptions().panel_size(panel_size));
  const std::string truth = d.label >= 0 ? "true " + class_name(d.class_names, d.label) + " | " : "";
  fig.at(0, 0) = image_panel(d.x, truth + fmt::format("{} {:.2f}, {} {:.2f}", a, d.prob_a, b, d.prob_b));
  fig.at(0, 1) = gradient_panel(d.grad_a, "d " + a + " / dx");
  fig.at(0, 2) = gradient_panel(d.grad_b, "d " + b + " / dx");
  fig.at(1, 0) = gradient_panel(d.grad_a - d.grad_b, "d " + a + "/dx - d " + b + "/dx");
  fig.at(1, 1) = image_panel(d.proj_a, fmt::format("x + {:g} d{}/dx: {} {:.2f}", d.k, a,
                                                   class_name(d.class_names, d.pred_a), d.pred_a_prob));
  fig.at(1, 2) = image_panel(d.proj_b, fmt::format("x + {:g} d{}/dx: {} {:.2f}", d.k, b,
                                                   class_name(d.class_names, d.pred_b), d.pred_b_prob));
  if (cams) {
    fig.at(0, 3) = cam_panel(d.x, d.cam_a, d.cam_method + " for " + a);
    fig.at(1, 3) = cam_panel(d.x, d.cam_b, d.cam_method + " for " + b);
  }
  return fig.to_png();
}

std::vector<AttributionFigureData> attribution_figure_data(const models::Model& model, const at::Tensor& x,
                                                           const at::Tensor& attributions, const at::Tensor& targets,
                                                           const std::string& method, const std::vector<int64_t>& labels) {
  const int64_t B = x.size(0);
  GLASSBOX_CHECK(attributions.size(0) == B && targets.numel() == B && (labels.empty() || int64_t(labels.size()) == B),
                 "attribution figures: ", B, " inputs, ", attributions.size(0), " attributions, ", targets.numel(),
                 " targets and ", labels.size(), " labels; expected one of each per input");
  const at::Tensor probs = at::softmax(model.predict(x).to(at::kDouble), 1).to(at::kCPU);
  const at::Tensor display = model.to_display(x.detach()).to(at::kCPU);
  const at::Tensor shown = attribution_over_input(attributions.detach().to(at::kCPU), display);
  const at::Tensor t = targets.to(at::kCPU);
  std::vector<AttributionFigureData> out(static_cast<size_t>(B));
  for (int64_t i = 0; i < B; ++i) {
    AttributionFigureData& d = out[size_t(i)];
    d.x = display[i];
    d.attribution = shown[i];
    d.method = method;
    d.label = labels.empty() ? -1 : labels[size_t(i)];
    d.target = t[i].item<int64_t>();
    d.target_probability = probs[i][d.target].item<double>();
    d.predicted = probs[i].argmax().item<int64_t>();
    d.predicted_probability = probs[i][d.predicted].item<double>();
    d.class_names = model.spec().class_names();
  }
  return out;
}

std::string render_attribution_figure(const AttributionFigureData& d, const AttributionFigureOptions& o) {
  GLASSBOX_CHECK(d.x.defined() && d.x.dim() == 3, "attribution figure: input ", d.x.sizes(), ", expected [C, H, W]");
  GLASSBOX_CHECK(d.attribution.defined() && d.attribution.dim() == 3 && d.attribution.size(1) == d.x.size(1) &&
                     d.attribution.size(2) == d.x.size(2),
                 "attribution figure: attribution ", d.attribution.sizes(), " does not cover the input ", d.x.sizes());
  AttributionSign used = AttributionSign::all;
  const at::Tensor map = reduce_attribution(d.attribution, o.sign(), o.outlier_percent(), &used);
  const bool signed_map = used == AttributionSign::all;
  const auto name = [&](int64_t c) { return class_name(d.class_names, c); };
  render::Figure fig(1, 3, render::FigureOptions().panel_size(o.panel_size()));
  const std::string truth = d.label >= 0 ? "true " + name(d.label) + " | " : "";
  fig.at(0, 0) = image_panel(d.x, fmt::format("{}sees {} {:.2f}", truth, name(d.predicted), d.predicted_probability));
  fig.at(0, 0).colorbar = false;
  render::Panel& attr = fig.at(0, 1);
  attr.title = fmt::format("{} for {} (p {:.2f}), {}", d.method, name(d.target), d.target_probability,
                           attribution_sign_name(used));
  attr.image = to_plane(map);
  attr.colormap = signed_map ? render::Colormap::diverging : render::Colormap::viridis;
  attr.symmetric = signed_map;
  attr.vmin = signed_map ? -1.0 : 0.0;
  attr.vmax = 1.0;
  render::Panel over = image_panel(d.x, "over the input");
  over.colorbar = false;
  over.overlay = to_plane(map);
  over.overlay_colormap = attr.colormap;
  over.overlay_signed = signed_map;
  over.overlay_alpha = o.alpha();
  over.overlay_fade = o.fade();
  fig.at(0, 2) = std::move(over);
  return fig.to_png();
}

std::string render_attribution_grid(const at::Tensor& images, const at::Tensor& attributions,
                                    const std::vector<std::string>& titles, const std::string& title, int panel_size,
                                    bool over) {
  GLASSBOX_CHECK(images.dim() == 4 && attributions.dim() == 4 && attributions.size(0) == images.size(0) &&
                     attributions.size(2) == images.size(2) && attributions.size(3) == images.size(3),
                 "attribution grid: images ", images.sizes(), " and attributions ", attributions.sizes(),
                 " must cover the same [N, H, W]");
  const int n = static_cast<int>(images.size(0));
  GLASSBOX_CHECK(n >= 1, "attribution grid: no probes");
  render::Figure fig(2, n, render::FigureOptions().panel_size(panel_size).title(title));
  for (int i = 0; i < n; ++i) {
    fig.at(0, i) = image_panel(images[i], i < int(titles.size()) ? titles[static_cast<size_t>(i)] : "");
    fig.at(0, i).colorbar = false;
    if (over) {
      fig.at(1, i) = cam_panel(images[i], attributions[i], "over the input");
      continue;
    }
    render::Panel p = gradient_panel(attributions[i], "attribution");
    if (p.image.channels == 1) {
      bool nonnegative = true;
      for (float v : p.image.data) nonnegative = nonnegative && v >= 0;
      if (nonnegative) p.colormap = render::Colormap::viridis, p.symmetric = false;  // saliency magnitudes
    }
    fig.at(1, i) = std::move(p);
  }
  return fig.to_png();
}

namespace {

render::RgbImage morph_frame(const MorphTrajectory& t, size_t i, int64_t target, const std::vector<std::string>& names,
                             int panel_size) {
  render::Figure fig(1, 1, render::FigureOptions().panel_size(panel_size));
  fig.at(0, 0) = image_panel(t.frames[i], fmt::format("step {}: p({}) {:.2f}, sees {}", i, class_name(names, target),
                                                      t.target_probability[i], class_name(names, t.predicted[i])));
  fig.at(0, 0).colorbar = false;
  return fig.render();
}

}  // namespace

std::string render_morph_gif(const MorphTrajectory& t, int64_t target, const std::vector<std::string>& names,
                             int panel_size) {
  GLASSBOX_CHECK(!t.frames.empty(), "morph: empty trajectory");
  std::vector<render::RgbImage> frames;
  // At most ~60 frames: long trajectories are subsampled, the first and last frames always kept.
  const size_t n = t.frames.size(), stride = std::max<size_t>(1, (n + 59) / 60);
  for (size_t i = 0; i < n; i += stride) frames.push_back(morph_frame(t, i, target, names, panel_size));
  if ((n - 1) % stride != 0) frames.push_back(morph_frame(t, n - 1, target, names, panel_size));
  return render::encode_gif(frames);
}

std::string render_morph_summary(const MorphTrajectory& t, int64_t target, const std::vector<std::string>& names,
                                 int panel_size) {
  GLASSBOX_CHECK(!t.frames.empty(), "morph: empty trajectory");
  render::Figure fig(1, 3, render::FigureOptions().panel_size(panel_size));
  const at::Tensor &first = t.frames.front(), &last = t.frames.back();
  fig.at(0, 0) = image_panel(first, fmt::format("start: sees {}, p({}) {:.2f}", class_name(names, t.predicted.front()),
                                                class_name(names, target), t.target_probability.front()));
  fig.at(0, 1) = image_panel(last, fmt::format("step {}: sees {}, p({}) {:.2f}", t.frames.size() - 1,
                                               class_name(names, t.predicted.back()), class_name(names, target),
                                               t.target_probability.back()));
  fig.at(0, 2) = gradient_panel(last - first, "change (red: ink added)");
  return fig.to_png();
}

std::string render_pair_matrix(const at::Tensor& counts, const std::vector<std::string>& names, int panel_size) {
  GLASSBOX_CHECK(counts.dim() == 2 && counts.size(0) == counts.size(1), "pair matrix: ", counts.sizes(),
                 ", expected [K, K]");
  render::Figure fig(1, 1, render::FigureOptions().panel_size(panel_size).title("confused pairs (top-2 classes)"));
  render::Panel p;
  p.image = to_plane(counts.to(at::kFloat));
  p.colormap = render::Colormap::viridis;
  p.vmin = 0.0;
  // Counts in the cells and the class names on the diagonal (a class is never confused with itself).
  const at::Tensor c = counts.to(at::kCPU).to(at::kLong).contiguous();
  const int64_t K = c.size(0);
  if (K <= 20) {
    for (int64_t i = 0; i < K; ++i)
      for (int64_t j = 0; j < K; ++j) {
        const int64_t v = c[i][j].item<int64_t>();
        p.cell_text.push_back(i == j ? class_name(names, i).substr(0, 6) : v > 0 ? std::to_string(v) : "");
      }
  }
  p.title = "how often two classes were the top two";
  fig.at(0, 0) = std::move(p);
  return fig.to_png();
}

}  // namespace glassbox::explain
