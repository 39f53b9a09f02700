// Free of libtorch: a model.json is checked before anything is loaded.
#include "glassbox/models/model-json.h"

#include <filesystem>
#include <set>

#include "glassbox/data/class-names.h"
#include "glassbox/models/spec-json.h"
#include "glassbox/util/bounded-json.h"
#include "glassbox/util/error.h"
#include "glassbox/util/file-bytes.h"
#include "glassbox/util/json-fields.h"

namespace glassbox::models {

std::string model_json_path(const std::string& model_path) {
  return std::filesystem::path(model_path).replace_extension(".json").string();
}

ModelJson parse_model_json(const std::string& text, const std::string& path) {
  const nlohmann::json j = parse_bounded_json(text, path, 8);
  const JsonFields f(j, path);
  static const std::set<std::string> known = {"input_shape", "preprocess", "normalization", "class_names", "logits"};
  for (const auto& item : j.items())
    GLASSBOX_CHECK(known.count(item.key()) == 1, path, ": unknown key '", printable_excerpt(item.key(), 64),
                   "', expected input_shape, preprocess, normalization, class_names or logits");
  ModelJson out;
  const std::vector<int64_t> dims = f.integers("input_shape", 3, 3, 1, kMaxInputSide);
  out.input_shape = InputShape{dims[0], dims[1], dims[2]};
  validate_input_shape(out.input_shape, path + ": input_shape");
  data::Preprocess preprocess;
  if (f.has("preprocess")) preprocess = preprocess_from_json(JsonFields(f.at("preprocess"), path + ": preprocess"));
  if (f.has("normalization"))
    preprocess.normalize(normalization_from_json(JsonFields(f.at("normalization"), path + ": normalization"),
                                                 out.input_shape.channels));
  std::vector<std::string> names;
  if (f.has("class_names")) {
    names = f.strings("class_names", size_t(kMaxClasses), data::kMaxClassNameBytes);
    for (const std::string& n : names) data::validate_class_name(n, path + ": class_names");
  }
  if (f.has("logits"))
    out.logits = f.at("logits").is_number_integer() ? std::to_string(f.integer("logits", 0, 9999)) : f.string("logits", 256);
  out.spec = InputSpec().preprocess(preprocess).class_names(names);
  // The class count is the network's to say; everything else is checked against the shape here.
  out.spec.validate(out.input_shape, 0, path);
  return out;
}

ModelJson read_model_json(const std::string& path) { return parse_model_json(read_file(path, size_t(16) << 20), path); }

std::string model_json_text(const InputShape& shape, const InputSpec& spec, const std::string& logits) {
  nlohmann::json j;
  j["input_shape"] = {shape.channels, shape.height, shape.width};
  j["preprocess"] = preprocess_json(spec.preprocess());
  j["normalization"] = normalization_json(spec.normalization());
  if (!spec.class_names().empty()) j["class_names"] = spec.class_names();
  if (!logits.empty()) j["logits"] = logits;
  return j.dump(2) + "\n";
}

}  // namespace glassbox::models
