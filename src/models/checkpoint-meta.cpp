#include "glassbox/models/checkpoint-meta.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "glassbox/data/class-names.h"
#include "glassbox/util/bounded-json.h"
#include "glassbox/util/json-fields.h"
#include "glassbox/models/spec-json.h"
#include "glassbox/util/error.h"

namespace glassbox::models {
namespace {

constexpr const char* kFormat1 = "glassbox-checkpoint-1";
constexpr const char* kFormat2 = "glassbox-checkpoint-2";
constexpr size_t kMaxMetrics = 256;

using Json = nlohmann::json;
using glassbox::JsonFields;
using Fields = JsonFields;

Json model_json(const ModelOptions& o) {
  return {{"architecture", o.architecture()},
          {"input_shape", {o.shape().channels, o.shape().height, o.shape().width}},
          {"num_classes", o.num_classes()},
          {"hidden", o.hidden()},
          {"conv_channels", o.conv_channels()}};
}

ModelOptions model_from(const Fields& f) {
  const std::string arch = f.string("architecture", 64);
  const Json& dims = f.at("input_shape");
  GLASSBOX_CHECK(dims.is_array() && dims.size() == 3, f.where(), ": 'input_shape' is ", describe_json(dims),
                 ", expected [C, H, W]");
  InputShape shape;
  int64_t* sides[] = {&shape.channels, &shape.height, &shape.width};
  for (size_t i = 0; i < 3; ++i) {
    GLASSBOX_CHECK(dims[i].is_number_integer(), f.where(), ": 'input_shape' holds ", describe_json(dims[i]),
                   ", expected integers");
    GLASSBOX_CHECK(!dims[i].is_number_unsigned() || dims[i].get<uint64_t>() <= uint64_t(kMaxInputSide), f.where(),
                   ": input_shape side ", dims[i].get<uint64_t>(), ", expected 1..", kMaxInputSide);
    *sides[i] = dims[i].get<int64_t>();
  }
  ModelOptions o(arch, shape, f.integer("num_classes", 2, kMaxClasses));
  o.hidden(f.integer("hidden", 1, int64_t(1) << 16)).conv_channels(f.integer("conv_channels", 1, int64_t(1) << 16));
  validate_model_options(o, f.where());
  return o;
}

}  // namespace

Json preprocess_json(const data::Preprocess& p) {
  return {{"channels", data::channels_name(p.channels())}, {"resize", p.resize()}, {"crop", p.crop()}};
}

Json normalization_json(const data::Normalization& n) { return {{"mean", n.mean}, {"std", n.std}}; }

data::Preprocess preprocess_from_json(const Fields& pre) {
  const std::string channels = pre.string("channels", 8);
  GLASSBOX_CHECK(channels == "keep" || channels == "gray" || channels == "rgb", pre.where(), ": channels '",
                 printable_excerpt(channels), "', expected keep, gray or rgb");
  return data::Preprocess()
      .channels(channels == "gray" ? data::Channels::gray : channels == "rgb" ? data::Channels::rgb : data::Channels::keep)
      .resize(static_cast<int>(pre.integer("resize", 0, 1 << 15)))
      .crop(static_cast<int>(pre.integer("crop", 0, 1 << 15)));
}

data::Normalization normalization_from_json(const Fields& norm, int64_t channels) {
  data::Normalization n;
  n.mean = norm.numbers(norm.at("mean"), "mean", 4096);
  n.std = norm.numbers(norm.at("std"), "std", 4096);
  n.validate(channels, norm.where());
  return n;
}

std::string CheckpointMeta::to_json() const {
  Json j;
  j["format"] = kFormat2;
  j["model"] = model_json(model);
  j["class_names"] = class_names;
  j["normalization"] = normalization_json(normalization);
  j["preprocess"] = preprocess_json(preprocess);
  j["epoch"] = epoch;
  j["global_step"] = global_step;
  Json m = Json::object();
  for (const auto& [name, value] : metrics) m[name] = std::isfinite(value) ? Json(value) : Json(nullptr);
  j["metrics"] = m;
  j["optimizer"] = optimizer;
  j["learning_rate"] = learning_rate;
  j["seed"] = seed;
  Json e = Json::object();
  for (const auto& [name, digest] : entries) e[name] = {{"size", digest.size}, {"sha256", digest.sha256}};
  j["entries"] = e;
  // Strings that are not UTF-8 (a Latin-1 classes.txt) are refused earlier, when read; replace keeps
  // writing safe regardless.
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

CheckpointMeta CheckpointMeta::from_json(std::string_view text, const std::string& path) {
  const std::string where = path + ": checkpoint metadata";
  const Json j = parse_bounded_json(text, where);
  const Fields f(j, where);
  const Json& format = f.at("format");
  const bool v2 = format == kFormat2, v1 = format == kFormat1;
  GLASSBOX_CHECK(v1 || v2, where, ": format is ", describe_json(format), ", expected ", kFormat2, " or ", kFormat1);
  CheckpointMeta m;
  m.model = v2 ? model_from(Fields(f.at("model"), where + " model")) : model_from(f);
  const Json& names = f.at("class_names");
  GLASSBOX_CHECK(names.is_array() && int64_t(names.size()) == m.model.num_classes(), where, ": 'class_names' is ",
                 describe_json(names), ", expected ", m.model.num_classes(), " names");
  for (const Json& n : names) {
    m.class_names.push_back(f.text(n, "class_names"));
    data::validate_class_name(m.class_names.back(), where + " class_names");  // the rule every reader keeps
  }
  m.normalization = normalization_from_json(Fields(f.at("normalization"), where + " normalization"), m.model.shape().channels);
  if (f.has("preprocess"))  // absent before images could be resized
    m.preprocess = preprocess_from_json(Fields(f.at("preprocess"), where + " preprocess"));
  // What images become at the input: a crop of C gives C x C, a resize without a crop makes the shorter
  // side R. Checked against the input shape here, so that a file claiming `resize 32768` is refused
  // before any image is resized to it.
  const InputShape& s = m.model.shape();
  const int64_t resize = m.preprocess.resize(), crop = m.preprocess.crop();
  GLASSBOX_CHECK(crop == 0 || (crop == s.height && crop == s.width), where, ": preprocess crop ", crop, " makes ", crop,
                 "x", crop, " inputs, but the model takes ", s.height, "x", s.width);
  GLASSBOX_CHECK(crop != 0 || resize == 0 || resize == std::min(s.height, s.width), where, ": preprocess resize ", resize,
                 " makes the shorter side ", resize, ", but the model takes ", s.height, "x", s.width);
  GLASSBOX_CHECK(resize <= 8 * std::max(s.height, s.width), where, ": preprocess resize ", resize, " for ", s.height, "x",
                 s.width, " inputs, expected at most 8 times their side");
  // Bounded far above any training's length, so that counting on from them cannot overflow.
  constexpr int64_t kMaxCount = int64_t(1) << 53;
  m.epoch = f.integer("epoch", 0, kMaxCount);
  m.global_step = f.integer("global_step", 0, kMaxCount);
  const Json& metrics = f.at("metrics");
  GLASSBOX_CHECK(metrics.is_object() && metrics.size() <= kMaxMetrics, where, ": 'metrics' is ", describe_json(metrics),
                 ", expected an object of at most ", kMaxMetrics, " numbers");
  for (const auto& [name, value] : metrics.items()) {
    GLASSBOX_CHECK(name.size() <= 128 && (value.is_number() || value.is_null()), where, ": metric '",
                   printable_excerpt(name), "' is ", describe_json(value), ", expected a number");
    m.metrics[name] = value.is_null() ? std::nan("") : value.get<double>();
  }
  m.optimizer = f.string("optimizer", 16);
  GLASSBOX_CHECK(m.optimizer == "adam" || m.optimizer == "sgd", where, ": optimizer '", printable_excerpt(m.optimizer),
                 "', expected adam or sgd");
  m.learning_rate = f.number("learning_rate");
  GLASSBOX_CHECK(m.learning_rate >= 0 && std::isfinite(m.learning_rate), where, ": learning_rate ", m.learning_rate,
                 ", expected a number >= 0");
  m.seed = f.unsigned_integer("seed");
  if (v2) {
    const Json& entries = f.at("entries");
    GLASSBOX_CHECK(entries.is_object() && entries.size() <= (1u << 16), where, ": 'entries' is ", describe_json(entries),
                   ", expected an object of entry digests");
    for (const auto& [name, value] : entries.items()) {
      const Fields e(value, where + " entry '" + printable_excerpt(name) + "'");
      EntryDigest d;
      d.size = e.unsigned_integer("size");
      d.sha256 = e.string("sha256", 64);
      GLASSBOX_CHECK(d.sha256.size() == 64 && d.sha256.find_first_not_of("0123456789abcdef") == std::string::npos,
                     e.where(), ": sha256 is not 64 hexadecimal digits");
      m.entries[name] = d;
    }
  }
  return m;
}

}  // namespace glassbox::models
