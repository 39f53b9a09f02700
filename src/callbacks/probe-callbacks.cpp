#include "glassbox/callbacks/probe-callbacks.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <fmt/format.h>

#include "glassbox/explain/methods.h"
#include "glassbox/explain/attribution-display.h"
#include "glassbox/explain/figures.h"
#include "glassbox/explain/morph.h"
#include "glassbox/util/error.h"

namespace glassbox::callbacks {
namespace {

void check_probes(const at::Tensor& x, const at::Tensor& y, const char* who) {
  GLASSBOX_CHECK(x.defined() && x.dim() == 4 && x.size(0) >= 1, who, ": probes must be a non-empty [N, C, H, W] batch");
  GLASSBOX_CHECK(y.defined() && y.dim() == 1 && y.size(0) == x.size(0), who, ": one label per probe expected");
}

at::Tensor probabilities(models::Classifier& model, const at::Tensor& x) {
  torch::autograd::AutoGradMode no_grad(false);
  models::EvalModeGuard eval(model);
  return at::softmax(model.forward(x).to(at::kDouble), 1).to(at::kCPU);
}

}  // namespace

void first_probes(const data::Dataset& dataset, int64_t n, at::Tensor& x, at::Tensor& y) {
  GLASSBOX_CHECK(n >= 1 && n <= dataset.size(), "probes ", n, ": expected 1..", dataset.size());
  const data::Batch b = dataset.batch(0, n);
  x = b.x;
  y = b.y;
}

AttributionCallback::AttributionCallback(AttributionCallbackOptions options, at::Tensor probes_x, at::Tensor probes_y)
    : options_(std::move(options)), x_(std::move(probes_x)), y_(std::move(probes_y)), queue_(4) {
  check_probes(x_, y_, "AttributionCallback");
  explain::find_attribution_method(options_.method());  // fail now, not at the first epoch's end
  GLASSBOX_CHECK(options_.every_n_epochs() >= 1, "AttributionCallback: every_n_epochs must be >= 1");
}

void AttributionCallback::log(const train::EpochContext& ctx, const std::string& when) {
  if (!ctx.logger->records()) return;
  models::Classifier& model = ctx.model;
  const explain::AttributionMethod& method = explain::find_attribution_method(options_.method());
  const c10::Device device = models::device_of(model);
  const at::Tensor x = ctx.spec.to_input(x_.to(device)), y = y_.to(device);
  // Attributions for each probe's true class: what the model uses to recognise it.
  // Layer methods' maps are drawn over the probes (as CAMs are shown); input methods' beside them.
  const at::Tensor attributions =
      explain::attribution_over_input(method.attribute({model, x, y, options_.attribute_options()}), x).to(at::kCPU);
  const bool over = method.uses_layer() || method.reads_map();
  const at::Tensor p = probabilities(model, x);
  std::vector<std::string> titles;
  for (int64_t i = 0; i < x.size(0); ++i) {
    const int64_t label = y_[i].item<int64_t>(), pred = p[i].argmax().item<int64_t>();
    titles.push_back(fmt::format("{}: sees {} {:.2f}", ctx.spec.class_name(label), ctx.spec.class_name(pred),
                                 p[i][pred].item<double>()));
  }
  const at::Tensor images = x_.to(at::kCPU);
  const std::string tag = options_.tag() + "/" + options_.method();
  const std::string title = std::string(method.name()) + " for the true class, " + when;
  queue_.push([logger = ctx.logger, images, attributions, titles, tag, title, step = ctx.global_step, over] {
    logger->log_image(tag, explain::render_attribution_grid(images, attributions, titles, title, 160, over), step);
  });
  ++grids_;
}

void AttributionCallback::on_fit_start(const train::EpochContext& ctx) {
  if (options_.log_before_training() && ctx.global_step == 0) log(ctx, "before training");
}

void AttributionCallback::on_train_epoch_end(const train::EpochContext& ctx) {
  if ((ctx.epoch + 1) % options_.every_n_epochs() != 0) return;
  log(ctx, "after epoch " + std::to_string(ctx.epoch + 1));
}

void AttributionCallback::on_fit_end(const train::EpochContext& ctx) {
  queue_.flush();
  ctx.logger->flush();
}

MorphCallback::MorphCallback(MorphCallbackOptions options, at::Tensor probes_x, at::Tensor probes_y)
    : options_(std::move(options)), x_(std::move(probes_x)), y_(std::move(probes_y)), queue_(8) {
  check_probes(x_, y_, "MorphCallback");
  GLASSBOX_CHECK(options_.every_n_epochs() >= 1, "MorphCallback: every_n_epochs must be >= 1");
}

void MorphCallback::on_train_epoch_end(const train::EpochContext& ctx) {
  if ((ctx.epoch + 1) % options_.every_n_epochs() != 0 || !ctx.logger->records()) return;
  models::Classifier& model = ctx.model;
  const c10::Device device = models::device_of(model);
  const at::Tensor x = ctx.spec.to_input(x_.to(device));
  const at::Tensor p = probabilities(model, x);
  for (int64_t i = 0; i < x.size(0); ++i) {
    // The most confused other class: the most probable class that is not the true one.
    at::Tensor others = p[i].clone();
    const int64_t label = y_[i].item<int64_t>();
    others[label] = -1;
    const int64_t target = others.argmax().item<int64_t>();
    auto t = std::make_shared<explain::MorphTrajectory>(explain::morph(model, ctx.spec, x.narrow(0, i, 1),
                                                                       explain::MorphOptions(target)
                                                                           .steps(options_.steps())
                                                                           .step_size(options_.step_size())
                                                                           .norm(options_.norm())
                                                                           .stop_probability(options_.stop_probability())));
    const std::string description = fmt::format(
        "probe {} ({}) morphed toward {}: p {:.3f} -> {:.3f} in {} steps", i,
        ctx.spec.class_name(label), ctx.spec.class_name(target),
        t->target_probability.front(), t->target_probability.back(), t->frames.size() - 1);
    const std::string tag = options_.tag() + "/probe" + std::to_string(i);
    const std::vector<std::string> names = ctx.spec.class_names();
    queue_.push([logger = ctx.logger, t, target, names, tag, step = ctx.global_step, d = description] {
      logger->log_image(tag, explain::render_morph_gif(*t, target, names), step, d);
    });
    ++animations_;
  }
}

void MorphCallback::on_fit_end(const train::EpochContext& ctx) {
  queue_.flush();
  ctx.logger->flush();
}

}  // namespace glassbox::callbacks
