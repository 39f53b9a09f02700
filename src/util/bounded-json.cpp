#include "glassbox/util/bounded-json.h"

#include <cmath>

#include "glassbox/util/error.h"

namespace glassbox {
namespace {

struct TooDeep {};

}  // namespace

nlohmann::json parse_bounded_json(std::string_view text, const std::string& name, int max_depth) {
  // nlohmann's reader takes a NUL byte for the end of the input and ignores whatever follows it: a flipped
  // bit in a file's padding, or text hidden behind one, would pass unseen.
  const size_t nul = text.find('\0');
  GLASSBOX_CHECK(nul == std::string_view::npos, name, ": malformed JSON at byte ", nul, " (a NUL byte)");
  try {
    // The callback sees every value with its depth before it is stored: refuse before going deeper.
    return nlohmann::json::parse(text.begin(), text.end(),
                                 [max_depth](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
                                   if (depth > max_depth) throw TooDeep{};
                                   return true;
                                 });
  } catch (const TooDeep&) {
    throw Error(name + ": JSON nested deeper than " + std::to_string(max_depth) + " levels");
  } catch (const nlohmann::json::parse_error& e) {
    // e.what() quotes the input read so far: report the position only.
    throw Error(name + ": malformed JSON at byte " + std::to_string(e.byte));
  } catch (const nlohmann::json::exception&) {  // out_of_range: a number such as 1e999 (found by fuzzing)
    throw Error(name + ": malformed JSON (a number out of range)");
  }
}

std::string describe_json(const nlohmann::json& v) {
  switch (v.type()) {
    case nlohmann::json::value_t::string: return "string '" + printable_excerpt(v.get_ref<const std::string&>()) + "'";
    case nlohmann::json::value_t::array: return "an array of " + std::to_string(v.size());
    case nlohmann::json::value_t::object: return "an object of " + std::to_string(v.size()) + " keys";
    case nlohmann::json::value_t::null: return "null";
    default: return printable_excerpt(v.dump());  // numbers and booleans: short by nature
  }
}

std::string json_text(const nlohmann::json& value, int indent) {
  return value.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

nlohmann::json json_number(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  return value;
}

}  // namespace glassbox
