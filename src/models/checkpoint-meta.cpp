#include "glassbox/models/checkpoint-meta.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "glassbox/util/bounded-json.h"
#include "glassbox/util/error.h"

namespace glassbox::models {
namespace {

constexpr const char* kFormat1 = "glassbox-checkpoint-1";
constexpr const char* kFormat2 = "glassbox-checkpoint-2";
constexpr size_t kMaxName = 1024;
constexpr size_t kMaxMetrics = 256;

using Json = nlohmann::json;

// Typed, range-checked access to one field of untrusted metadata.
class Fields {
 public:
  Fields(const Json& object, std::string where) : j_(object), where_(std::move(where)) {
    GLASSBOX_CHECK(j_.is_object(), where_, ": expected an object, found ", describe_json(j_));
  }
  const Json& at(const char* key) const {
    const auto it = j_.find(key);
    GLASSBOX_CHECK(it != j_.end(), where_, ": no '", key, "'");
    return *it;
  }
  bool has(const char* key) const { return j_.contains(key); }
  int64_t integer(const char* key, int64_t lo, int64_t hi) const {
    const Json& v = at(key);
    // is_number_integer: a float such as 1e30 must not be cast to an integer (undefined behaviour).
    GLASSBOX_CHECK(v.is_number_integer(), where_, ": '", key, "' is ", describe_json(v), ", expected an integer");
    if (v.is_number_unsigned())
      GLASSBOX_CHECK(v.get<uint64_t>() <= static_cast<uint64_t>(hi), where_, ": '", key, "' is ", v.get<uint64_t>(),
                     ", expected ", lo, "..", hi);
    const int64_t x = v.get<int64_t>();
    GLASSBOX_CHECK(x >= lo && x <= hi, where_, ": '", key, "' is ", x, ", expected ", lo, "..", hi);
    return x;
  }
  uint64_t unsigned_integer(const char* key) const {
    const Json& v = at(key);
    GLASSBOX_CHECK(v.is_number_unsigned() || (v.is_number_integer() && v.get<int64_t>() >= 0), where_, ": '", key,
                   "' is ", describe_json(v), ", expected an unsigned integer");
    return v.get<uint64_t>();
  }
  double number(const char* key) const {
    const Json& v = at(key);
    GLASSBOX_CHECK(v.is_number(), where_, ": '", key, "' is ", describe_json(v), ", expected a number");
    return v.get<double>();
  }
  std::string string(const char* key, size_t max_bytes = kMaxName) const { return text(at(key), key, max_bytes); }
  std::string text(const Json& v, const std::string& what, size_t max_bytes = kMaxName) const {
    GLASSBOX_CHECK(v.is_string(), where_, ": '", what, "' is ", describe_json(v), ", expected a string");
    const std::string& s = v.get_ref<const std::string&>();
    GLASSBOX_CHECK(s.size() <= max_bytes, where_, ": '", what, "' is a string of ", s.size(), " bytes, expected at most ",
                   max_bytes);
    return s;
  }
  std::vector<double> numbers(const Json& v, const std::string& what, size_t max_count) const {
    GLASSBOX_CHECK(v.is_array() && v.size() <= max_count, where_, ": '", what, "' is ", describe_json(v),
                   ", expected at most ", max_count, " numbers");
    std::vector<double> out;
    for (const Json& x : v) {
      GLASSBOX_CHECK(x.is_number(), where_, ": '", what, "' holds ", describe_json(x), ", expected numbers");
      out.push_back(x.get<double>());
    }
    return out;
  }
  const std::string& where() const { return where_; }

 private:
  const Json& j_;
  std::string where_;
};

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

std::string CheckpointMeta::to_json() const {
  Json j;
  j["format"] = kFormat2;
  j["model"] = model_json(model);
  j["class_names"] = class_names;
  j["normalization"] = {{"mean", normalization.mean}, {"std", normalization.std}};
  j["preprocess"] = {{"channels", data::channels_name(preprocess.channels())},
                     {"resize", preprocess.resize()},
                     {"crop", preprocess.crop()}};
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
  for (const Json& n : names) m.class_names.push_back(f.text(n, "class_names"));
  const Fields norm(f.at("normalization"), where + " normalization");
  m.normalization.mean = norm.numbers(norm.at("mean"), "mean", 4096);
  m.normalization.std = norm.numbers(norm.at("std"), "std", 4096);
  m.normalization.validate(m.model.shape().channels, where + " normalization");
  if (f.has("preprocess")) {  // absent before images could be resized
    const Fields pre(f.at("preprocess"), where + " preprocess");
    const std::string channels = pre.string("channels", 8);
    GLASSBOX_CHECK(channels == "keep" || channels == "gray" || channels == "rgb", pre.where(), ": channels '",
                   printable_excerpt(channels), "', expected keep, gray or rgb");
    m.preprocess.channels(channels == "gray" ? data::Channels::gray : channels == "rgb" ? data::Channels::rgb
                                                                                     : data::Channels::keep)
        .resize(static_cast<int>(pre.integer("resize", 0, 1 << 15)))
        .crop(static_cast<int>(pre.integer("crop", 0, 1 << 15)));
  }
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
