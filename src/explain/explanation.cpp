#include "glassbox/explain/explanation.h"

#include <ATen/ATen.h>

#include <cstdlib>

#include "glassbox/explain/layer-attribution.h"
#include "glassbox/explain/layer-map.h"
#include "glassbox/models/model-options.h"
#include "glassbox/util/error.h"

namespace glassbox::explain {
namespace {

// Reads a layer's output (or attributions shaped like it) of `sizes` as a map, and says so in `e`.
MapReading read_for(Explanation& e, c10::IntArrayRef sizes, const LayerOptions& options, const at::Tensor& x) {
  const MapReading m = read_as_map(sizes, options, x.size(2), x.size(3), e.layer);
  e.layer_reading = m.describe(sizes);
  e.reshaped = m.layout != LayerLayout::channels_first;
  return m;
}

}  // namespace

Target parse_target(const std::string& text) {
  if (text == "top") return {Target::Kind::top, -1};
  if (text == "top2") return {Target::Kind::top2, -1};
  const bool digits = !text.empty() && text.size() <= 9 && text.find_first_not_of("0123456789") == std::string::npos;
  const long long c = digits ? std::strtoll(text.c_str(), nullptr, 10) : -1;
  GLASSBOX_CHECK_PARAM(digits && c < models::kMaxClasses, "target", text, "expected top, top2 or a class index in 0..",
                       models::kMaxClasses - 1);
  return {Target::Kind::class_index, c};
}

Explanation explain_batch(const models::Model& model, const at::Tensor& x, const AttributionMethod& method,
                          const ExplainOptions& options, distributed::Communicator* world) {
  models::Classifier& network = model.network();
  const Target& target = options.target();
  const int64_t K = model.num_classes();
  GLASSBOX_CHECK_PARAM(target.kind != Target::Kind::class_index || (target.class_index >= 0 && target.class_index < K),
                       "target", target.class_index, "out of range, the model has ", K, " classes (0..", K - 1, ")");
  AttributeOptions attribute = options.attribute();
  // LRP's z^B bounds the input by the pixels' range, 0 and 1 through the model's normalisation, unless given.
  if (attribute.lrp().low().empty() && attribute.lrp().high().empty() && x.dim() == 4) {
    const data::Normalization& n = model.spec().normalization();
    auto bound = [&](double pixel) {
      const at::Tensor v = n.apply(at::full({1, x.size(1), 1, 1}, pixel, at::kDouble)).flatten().to(at::kDouble).contiguous();
      return std::vector<double>(v.data_ptr<double>(), v.data_ptr<double>() + v.numel());
    };
    attribute.lrp().low(bound(0)).high(bound(1));
  }
  Explanation e;
  if (method.uses_layer()) {
    e.default_layer = attribute.layer().layer().empty();
    try {
      e.layer = e.default_layer ? default_cam_layer(network) : resolved_layer(network, attribute.layer());
    } catch (const Error& error) {
      if (!e.default_layer) throw;
      throw Error::about("method", method.name(), error.parameter().empty() ? error.what() : error.reason());
    }
    attribute.layer(LayerOptions(attribute.layer()).layer(e.layer));
    if (method.reads_map())
      for (const models::LayerInfo& l : network.layers())
        if (l.name == e.layer && !l.shape.empty()) {
          std::vector<int64_t> sizes{x.size(0)};
          sizes.insert(sizes.end(), l.shape.begin(), l.shape.end());
          read_for(e, sizes, attribute.layer(), x);
        }
  }
  const at::Tensor logits = model.predict(x);
  GLASSBOX_CHECK(at::isfinite(logits).all().item<bool>(), model.name(), ": non-finite logits (NaN or Inf) for these inputs");
  e.probabilities = at::softmax(logits.to(at::kDouble), 1).to(at::kCPU);
  e.ranked = std::get<1>(at::topk(logits, std::min<int64_t>(2, K), 1));
  const at::Tensor& own = options.per_sample_targets();
  if (own.defined()) {
    GLASSBOX_CHECK_PARAM(own.dim() == 1 && own.size(0) == x.size(0) && own.scalar_type() == at::kLong, "per_sample_targets",
                         own.sizes(), "expected [", x.size(0), "] int64, one per sample");
    const at::Tensor t = own.to(e.ranked.device());
    const int64_t lowest = t.numel() > 0 ? t.min().item<int64_t>() : 0, highest = t.numel() > 0 ? t.max().item<int64_t>() : 0;
    GLASSBOX_CHECK_PARAM(lowest >= -std::min<int64_t>(2, K) && highest < K, "per_sample_targets",
                         std::to_string(lowest) + ".." + std::to_string(highest), "expected classes 0..", K - 1,
                         ", -1 (top) or -2 (runner-up)");
    const at::Tensor rank = (-t - 1).clamp(0, e.ranked.size(1) - 1).unsqueeze(1);
    e.targets = at::where(t >= 0, t, e.ranked.gather(1, rank).squeeze(1)).contiguous();
  } else {
    e.targets = target.kind == Target::Kind::class_index ? at::full({x.size(0)}, target.class_index, e.ranked.options())
                                                         : e.ranked.select(1, 0).contiguous();
  }
  const AttributionRequest request{network, x, e.targets, attribute};
  e.attributions = world != nullptr ? attribute_across_ranks(method, request, *world) : method.attribute(request).to(at::kCPU);
  if (method.uses_layer() && !method.reads_map() && e.attributions.dim() >= 3) {
    try {
      e.attribution_map = to_map(e.attributions, read_for(e, e.attributions.sizes(), attribute.layer(), x));
    } catch (const Error&) {
      // Not a map (a sequence without a grid): the attributions stand as they are, undrawn.
    }
  }
  return e;
}

}  // namespace glassbox::explain
