#include "glassbox/explain/confusion.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <algorithm>
#include <numeric>

#include "glassbox/distributed/communicator.h"
#include "glassbox/distributed/world.h"
#include "glassbox/util/error.h"
#include "glassbox/util/enum-names.h"

namespace glassbox::explain {

std::vector<ConfusedSample> find_confused(const at::Tensor& logits, const ConfusionRule& rule) {
  GLASSBOX_CHECK(logits.dim() == 2 && logits.size(1) >= 2, "confusion: logits ", logits.sizes(),
                 ", expected [B, K >= 2]");
  const auto top = at::topk(logits.detach().to(at::kCPU).to(at::kDouble), 2, 1);
  const at::Tensor values = std::get<0>(top), indices = std::get<1>(top);
  const auto v = values.accessor<double, 2>();
  const auto i = indices.accessor<int64_t, 2>();
  std::vector<ConfusedSample> out;
  for (int64_t b = 0; b < logits.size(0); ++b) {
    const double gap = v[b][0] - v[b][1];
    if (gap < rule.max_logit_difference() && v[b][0] >= rule.min_logit_value())
      out.push_back({b, i[b][0], i[b][1], v[b][0], v[b][1], gap});
  }
  return out;
}

bool gradient_vanished(const at::Tensor& gradient) {
  return !gradient.defined() || gradients_vanished(gradient.unsqueeze(0))[0].item<bool>();
}

at::Tensor gradients_vanished(const at::Tensor& gradients) {
  const at::Tensor flat = gradients.flatten(1);
  return at::logical_or(at::logical_not(at::isfinite(flat).all(1)), flat.abs().amax(1) == 0);
}

namespace {
const char* const kRankByNames[] = {"gap", "margin", "entropy"};  // RankBy's order
}  // namespace

std::vector<std::string> rank_by_names() { return enum_names(kRankByNames); }
RankBy parse_rank_by(const std::string& name) { return enum_from_name<RankBy>(kRankByNames, name, "rank_by"); }
const char* rank_by_name(RankBy by) { return enum_name(kRankByNames, by); }

namespace {

// The model's logits for `data` ([N, K], in dataset order) over a world of ranks (sharded_rows: the
// batches one process would run, spread over the ranks, so that the same batches give the same logits
// to the bit, whichever rank ran them).
at::Tensor sharded_logits(models::Classifier& model, const models::InputSpec& spec, const data::Dataset& d,
                          int64_t batch_size, distributed::Communicator& world) {
  const int64_t K = model.num_classes();
  models::EvalModeGuard eval(model);
  torch::autograd::AutoGradMode no_grad(false);
  const c10::Device device = models::device_of(model);
  return distributed::sharded_rows(world, d.size(), batch_size, [&](int64_t begin, int64_t end) {
    const at::Tensor logits = model.forward(spec.to_input(d.batch(begin, end).x).to(device)).to(at::kCPU).to(at::kFloat);
    GLASSBOX_CHECK(logits.dim() == 2 && logits.size(1) == K, model.name(), ": logits ", logits.sizes(), ", expected [B, ", K, "]");
    return logits;
  }, "mining logits");
}

}  // namespace

MiningResult mine_confusion(models::Classifier& model, const models::InputSpec& spec, const data::Dataset& d,
                            const MiningOptions& o) {
  return mine_confusion(model, spec, d, o, *distributed::single_process());
}

MiningResult mine_confusion(models::Classifier& model, const models::InputSpec& spec, const data::Dataset& d,
                            const MiningOptions& o, distributed::Communicator& world) {
  const RankBy by = o.rank_by();
  GLASSBOX_CHECK(o.top() >= 0, "top ", o.top(), ": expected >= 0");
  GLASSBOX_CHECK(o.batch_size() >= 1, "batch_size ", o.batch_size(), ": expected >= 1");
  GLASSBOX_CHECK(d.size() > 0, "confusion mining: empty dataset");
  const int64_t n = d.size(), K = model.num_classes();
  const at::Tensor logits = sharded_logits(model, spec, d, o.batch_size(), world).to(at::kDouble);
  GLASSBOX_CHECK(at::isfinite(logits).all().item<bool>(), model.name(), ": non-finite logits (NaN or Inf)");
  const at::Tensor probs = at::softmax(logits, 1);
  const auto top_l = at::topk(logits, 2, 1);
  const auto top_p = at::topk(probs, 2, 1);
  const at::Tensor third = K >= 3 ? std::get<1>(at::topk(logits, 3, 1)).select(1, 2).contiguous() : at::full({n}, -1L);
  const auto c3 = third.accessor<int64_t, 1>();
  const at::Tensor gap = std::get<0>(top_l).select(1, 0) - std::get<0>(top_l).select(1, 1);
  const at::Tensor margin = std::get<0>(top_p).select(1, 0) - std::get<0>(top_p).select(1, 1);
  const at::Tensor entropy = -(probs * at::log(probs.clamp_min(1e-300))).sum(1);
  const at::Tensor labels = d.labels();

  MiningResult r;
  r.samples = n;
  r.accuracy = std::get<1>(top_l).select(1, 0).eq(labels).to(at::kDouble).mean().item<double>();
  // Rank: the smallest gap or margin first, or the largest entropy first.
  const at::Tensor key = by == RankBy::gap ? gap : by == RankBy::margin ? margin : -entropy;
  const at::Tensor order = std::get<1>(key.sort(/*stable=*/true, /*dim=*/0, /*descending=*/false));
  const int64_t top = std::min(o.top(), n);
  const auto ord = order.accessor<int64_t, 1>();
  const auto idx = std::get<1>(top_l).accessor<int64_t, 2>();
  const auto pv = probs.accessor<double, 2>();
  const auto g = gap.accessor<double, 1>(), m = margin.accessor<double, 1>(), e = entropy.accessor<double, 1>();
  const auto y = labels.accessor<int64_t, 1>();
  for (int64_t k = 0; k < top; ++k) {
    const int64_t i = ord[k];
    RankedSample s;
    s.index = i;
    s.label = y[i];
    s.class_a = idx[i][0];
    s.class_b = idx[i][1];
    s.class_c = c3[i];
    s.prob_a = pv[i][s.class_a];
    s.prob_b = pv[i][s.class_b];
    s.gap = g[i];
    s.margin = m[i];
    s.entropy = e[i];
    r.ranked.push_back(s);
  }
  r.pair_counts = at::zeros({K, K}, at::kLong);
  auto pairs = r.pair_counts.accessor<int64_t, 2>();
  for (int64_t i = 0; i < n; ++i)
    if (g[i] < o.pair_max_gap()) {
      ++pairs[idx[i][0]][idx[i][1]];
      ++pairs[idx[i][1]][idx[i][0]];
    }
  return r;
}

}  // namespace glassbox::explain
