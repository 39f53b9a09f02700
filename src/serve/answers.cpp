#include "answers.h"

#include <ATen/ATen.h>

#include <cmath>
#include <cstring>

#include "base64.h"
#include "glassbox/explain/figures.h"
#include "glassbox/render/colormap.h"
#include "glassbox/render/png.h"
#include "glassbox/util/bounded-json.h"

namespace glassbox::serve {
namespace {

nlohmann::json shape_of(const at::Tensor& t) {
  nlohmann::json s = nlohmann::json::array();
  for (int64_t d : t.sizes()) s.push_back(d);
  return s;
}

nlohmann::json class_json(const models::Model& model, int64_t c, double p) {
  return {{"class", c}, {"label", model.class_name(c)}, {"probability", json_number(p)}};
}

}  // namespace

std::string float32_bytes(const at::Tensor& t) {
  const at::Tensor f = t.detach().to(at::kCPU).to(at::kFloat).contiguous();
  std::string out(static_cast<size_t>(f.numel()) * 4, '\0');
  // x86 and ARM hosts are little-endian, as the answers say they are.
  if (f.numel() > 0) std::memcpy(out.data(), f.data_ptr<float>(), out.size());
  return out;
}

std::string npy_bytes(const at::Tensor& t) {
  std::string shape = "(";
  for (int64_t d : t.sizes()) shape += std::to_string(d) + (t.dim() == 1 ? ",)" : ", ");
  if (t.dim() != 1) {
    if (t.dim() > 1) shape.resize(shape.size() - 2);
    shape += ")";
  }
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }";
  // Magic, version 1.0, header length; the header padded with spaces to a multiple of 64 and ending in '\n'.
  const size_t unpadded = 10 + header.size() + 1;
  header += std::string((64 - unpadded % 64) % 64, ' ') + "\n";
  std::string out = "\x93NUMPY";
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(header.size() & 0xFF);
  out += static_cast<char>(header.size() >> 8);
  return out + header + float32_bytes(t);
}

nlohmann::json prediction_json(const models::Model& model, const at::Tensor& probabilities, int64_t top_k) {
  const at::Tensor p = probabilities.to(at::kDouble).contiguous();
  const auto [values, classes] = at::topk(p, top_k);
  nlohmann::json top = nlohmann::json::array();
  for (int64_t k = 0; k < top_k; ++k) top.push_back(class_json(model, classes[k].item<int64_t>(), values[k].item<double>()));
  nlohmann::json all = nlohmann::json::array();
  for (int64_t c = 0; c < p.size(0); ++c) all.push_back(p[c].item<double>());
  nlohmann::json out = top.front();
  out["probabilities"] = std::move(all);
  out["top"] = std::move(top);
  return out;
}

nlohmann::json explanation_json(const models::Model& model, const Question& q, const Outcome& o,
                                const at::Tensor& display, int64_t i) {
  const int64_t T = int64_t(q.targets.size());
  nlohmann::json targets = nlohmann::json::array();
  const bool cam = q.method->uses_layer();
  for (int64_t t = 0; t < T; ++t) {
    const int64_t r = i * T + t;
    const int64_t c = o.targets[size_t(r)];
    nlohmann::json one = class_json(model, c, o.probabilities[i][c].item<double>());
    if (q.attribution) {
      const at::Tensor a = o.attributions[r];
      one["attribution"] = {{"dtype", "float32"}, {"byteorder", "little"}, {"shape", shape_of(a)}, {"b64", base64_encode(float32_bytes(a))}};
    }
    if (q.overlay) one["overlay_png"] = base64_encode(overlay_png(display[i], o.drawn[r], q.sign, q.alpha, !cam && !q.method->reads_map()));
    if (!o.metrics.empty()) {
      nlohmann::json m = nlohmann::json::object();
      for (const auto& [name, v] : o.metrics) m[name] = json_number(v[r].item<double>());
      one["metrics"] = std::move(m);
    }
    targets.push_back(std::move(one));
  }
  nlohmann::json out = {{"method", q.method->name()}, {"targets", std::move(targets)}};
  if (!o.layer.empty()) out["layer"] = o.layer;
  return out;
}

nlohmann::json morph_json(const models::Model& model, const Question& q, const Outcome& o, int64_t i) {
  const explain::MorphTrajectory& m = o.trajectories[size_t(i)];
  const int64_t target = q.morph.target();
  nlohmann::json probability = nlohmann::json::array();
  for (double p : m.target_probability) probability.push_back(json_number(p));
  return {{"target", target},
          {"label", model.class_name(target)},
          {"reached", m.reached},
          {"steps", int64_t(m.frames.size()) - 1},
          {"predicted", m.predicted.empty() ? -1 : m.predicted.back()},
          {"probability", std::move(probability)},
          {"gif", base64_encode(explain::render_morph_gif(m, target, model.spec().class_names()))}};
}

std::string overlay_png(const at::Tensor& display, const at::Tensor& drawn, explain::AttributionSign sign, double alpha,
                        bool fade) {
  explain::AttributionSign used = explain::AttributionSign::all;
  const at::Tensor map = explain::reduce_attribution(drawn, sign, 2.0, &used).to(at::kFloat).contiguous();
  const bool signed_map = used == explain::AttributionSign::all;
  const auto& table = render::colormap_table(signed_map ? render::Colormap::diverging : render::Colormap::viridis);
  at::Tensor image = display.detach().to(at::kCPU).to(at::kFloat).clamp(0, 1);
  if (image.size(0) == 1) image = image.expand({3, image.size(1), image.size(2)});
  image = image.permute({1, 2, 0}).contiguous();
  const int64_t H = map.size(0), W = map.size(1);
  const float* v = map.data_ptr<float>();
  const float* px = image.data_ptr<float>();
  std::vector<uint8_t> rgb(size_t(H * W * 3));
  for (int64_t k = 0; k < H * W; ++k) {
    const double m = std::isfinite(v[k]) ? v[k] : 0.0;
    const double t = signed_map ? 0.5 + 0.5 * m : m;
    const auto& c = table[size_t(std::lround(std::clamp(t, 0.0, 1.0) * 255))];
    const double a = fade ? alpha * std::min(1.0, std::abs(m)) : alpha;
    for (int ch = 0; ch < 3; ++ch)
      rgb[size_t(k * 3 + ch)] = static_cast<uint8_t>(std::lround(255.0 * (1 - a) * px[k * 3 + ch] + a * c[size_t(ch)]));
  }
  return render::encode_png(rgb.data(), int(W), int(H), 3);
}

}  // namespace glassbox::serve
