#include "glassbox/callbacks/faithfulness-callback.h"

#include <ATen/ATen.h>

#include <map>

#include "glassbox/evaluate/evaluation.h"
#include "glassbox/explain/attribution-display.h"
#include "glassbox/explain/methods.h"
#include "glassbox/util/error.h"

namespace glassbox::callbacks {

FaithfulnessCallback::FaithfulnessCallback(FaithfulnessCallbackOptions options, at::Tensor probes_x, at::Tensor probes_y)
    : options_(std::move(options)), x_(std::move(probes_x)), y_(std::move(probes_y)) {
  evaluate::check_evaluation_request({options_.method()}, options_.metrics(), options_.evaluate_options());
  GLASSBOX_CHECK_PARAM(options_.every_n_epochs() >= 1, "every_n_epochs", options_.every_n_epochs(), "expected at least 1");
  GLASSBOX_CHECK(x_.defined() && x_.dim() == 4 && x_.size(0) >= 1 && y_.defined() && y_.dim() == 1 && y_.size(0) == x_.size(0),
                 "faithfulness callback: expected probes [N, C, H, W] and N labels");
}

void FaithfulnessCallback::log(const train::EpochContext& ctx, const std::string& when) {
  if (!ctx.logger->records()) return;
  models::Classifier& model = ctx.model;
  const explain::AttributionMethod& method = explain::find_attribution_method(options_.method());
  const c10::Device device = models::device_of(model);
  const at::Tensor x = ctx.spec.to_input(x_.to(device)), y = y_.to(device);
  // Explained for each probe's true class, as the attribution callback draws them.
  const explain::AttributeOptions& attribute = options_.attribute_options();
  const at::Tensor attributions = explain::attribution_over_input(method.attribute({model, x, y, attribute}), x).detach();
  evaluate::Evaluation ev;
  ev.targets = y_.to(at::kCPU);
  evaluate::MethodEvaluation me{options_.method(), "", attributions.to(at::kCPU), {}};
  std::map<std::string, double> scalars;
  for (const std::string& name : options_.metrics()) {
    const evaluate::Metric& metric = evaluate::find_metric(name);
    evaluate::MetricResult r = metric.evaluate({model, x, y, attributions, &method, &attribute, options_.evaluate_options(), 0});
    r.verdict = metric.verdict(r.values, options_.evaluate_options());
    scalars[options_.tag() + "/" + options_.method() + "/" + name] = evaluate::summarise(r.values).mean;
    me.metrics.emplace_back(name, std::move(r));
  }
  ctx.logger->log_metrics(scalars, ctx.global_step);
  ev.methods.push_back(std::move(me));
  const std::string tag = options_.tag() + "/" + options_.method() + "/curves";
  const std::string title = options_.method() + " on " + std::to_string(x_.size(0)) + " probes, " + when;
  queue_.push([logger = ctx.logger, ev = std::move(ev), tag, title, step = ctx.global_step] {
    const std::string png = evaluate::render_evaluation_curves(ev, title);
    if (!png.empty()) logger->log_image(tag, png, step);
  });
  ++logged_;
}

void FaithfulnessCallback::on_fit_start(const train::EpochContext& ctx) {
  if (options_.log_before_training() && ctx.global_step == 0) log(ctx, "before training");
}

void FaithfulnessCallback::on_train_epoch_end(const train::EpochContext& ctx) {
  if ((ctx.epoch + 1) % options_.every_n_epochs() != 0) return;
  log(ctx, "after epoch " + std::to_string(ctx.epoch + 1));
}

void FaithfulnessCallback::on_fit_end(const train::EpochContext& ctx) {
  queue_.flush();
  ctx.logger->flush();
}

}  // namespace glassbox::callbacks
