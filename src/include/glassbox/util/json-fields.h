// Typed, range-checked access to the fields of an untrusted JSON object (checkpoint metadata, a model's
// model.json): every error is one line naming where the object came from and the field, describing the
// value found without echoing it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "glassbox/util/bounded-json.h"
#include "glassbox/util/error.h"

namespace glassbox {

class JsonFields {
 public:
  JsonFields(const nlohmann::json& object, std::string where) : j_(object), where_(std::move(where)) {
    GLASSBOX_CHECK(j_.is_object(), where_, ": expected an object, found ", describe_json(j_));
  }
  const nlohmann::json& at(const char* key) const {
    const auto it = j_.find(key);
    GLASSBOX_CHECK(it != j_.end(), where_, ": no '", key, "'");
    return *it;
  }
  bool has(const char* key) const { return j_.contains(key); }
  int64_t integer(const char* key, int64_t lo, int64_t hi) const {
    const nlohmann::json& v = at(key);
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
    const nlohmann::json& v = at(key);
    GLASSBOX_CHECK(v.is_number_unsigned() || (v.is_number_integer() && v.get<int64_t>() >= 0), where_, ": '", key,
                   "' is ", describe_json(v), ", expected an unsigned integer");
    return v.get<uint64_t>();
  }
  double number(const char* key) const {
    const nlohmann::json& v = at(key);
    GLASSBOX_CHECK(v.is_number(), where_, ": '", key, "' is ", describe_json(v), ", expected a number");
    return v.get<double>();
  }
  std::string string(const char* key, size_t max_bytes = 1024) const { return text(at(key), key, max_bytes); }
  std::string text(const nlohmann::json& v, const std::string& what, size_t max_bytes = 1024) const {
    GLASSBOX_CHECK(v.is_string(), where_, ": '", what, "' is ", describe_json(v), ", expected a string");
    const std::string& s = v.get_ref<const std::string&>();
    GLASSBOX_CHECK(s.size() <= max_bytes, where_, ": '", what, "' is a string of ", s.size(), " bytes, expected at most ",
                   max_bytes);
    return s;
  }
  std::vector<double> numbers(const nlohmann::json& v, const std::string& what, size_t max_count) const {
    GLASSBOX_CHECK(v.is_array() && v.size() <= max_count, where_, ": '", what, "' is ", describe_json(v),
                   ", expected at most ", max_count, " numbers");
    std::vector<double> out;
    for (const nlohmann::json& x : v) {
      GLASSBOX_CHECK(x.is_number(), where_, ": '", what, "' holds ", describe_json(x), ", expected numbers");
      out.push_back(x.get<double>());
    }
    return out;
  }
  // An array of exactly `count` integers (any count when 0, at most `max_count`), each in lo..hi.
  std::vector<int64_t> integers(const char* key, size_t count, size_t max_count, int64_t lo, int64_t hi) const {
    const nlohmann::json& v = at(key);
    GLASSBOX_CHECK(v.is_array() && (count == 0 ? v.size() <= max_count : v.size() == count), where_, ": '", key, "' is ",
                   describe_json(v), ", expected ", count == 0 ? "at most " : "", count == 0 ? max_count : count,
                   " integers");
    std::vector<int64_t> out;
    for (const nlohmann::json& x : v) {
      GLASSBOX_CHECK(x.is_number_integer(), where_, ": '", key, "' holds ", describe_json(x), ", expected integers");
      // An unsigned value may exceed int64_t: compared as unsigned before it is converted.
      const bool fits = x.is_number_unsigned()
                            ? x.get<uint64_t>() <= static_cast<uint64_t>(hi) && (lo <= 0 || x.get<uint64_t>() >= uint64_t(lo))
                            : x.get<int64_t>() >= lo && x.get<int64_t>() <= hi;
      GLASSBOX_CHECK(fits, where_, ": '", key, "' holds ", describe_json(x), ", expected ", lo, "..", hi);
      out.push_back(x.get<int64_t>());
    }
    return out;
  }
  // An array of at most `max_count` strings of at most `max_bytes` each.
  std::vector<std::string> strings(const char* key, size_t max_count, size_t max_bytes = 1024) const {
    const nlohmann::json& v = at(key);
    GLASSBOX_CHECK(v.is_array() && v.size() <= max_count, where_, ": '", key, "' is ", describe_json(v),
                   ", expected at most ", max_count, " strings");
    std::vector<std::string> out;
    for (const nlohmann::json& x : v) out.push_back(text(x, key, max_bytes));
    return out;
  }
  const std::string& where() const { return where_; }

 private:
  const nlohmann::json& j_;
  std::string where_;
};

}  // namespace glassbox
