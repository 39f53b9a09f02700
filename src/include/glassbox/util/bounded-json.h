// JSON from files glassbox did not necessarily write: parsed with a bounded nesting depth (a
// 100,000-deep array must not overflow the stack), and described in messages without being echoed.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace glassbox {

// Parses `text`; throws glassbox::Error naming `name` on malformed JSON or nesting deeper than
// `max_depth`. The message never contains more than a short, printable excerpt of the input.
nlohmann::json parse_bounded_json(std::string_view text, const std::string& name, int max_depth = 32);

// A short description of an untrusted value for messages: its type and at most ~40 printable
// characters of it ("string 'glassbox-ch...'", "array of 3", "object of 12 keys").
std::string describe_json(const nlohmann::json& value);

// `value` as text for a file or the console: strings that are not UTF-8 (a tag or a path in another
// encoding) are written with U+FFFD in place of the bad bytes instead of failing the whole output.
std::string json_text(const nlohmann::json& value, int indent = 2);

// A number for JSON output: finite values as they are, NaN and infinities as the strings "NaN",
// "Infinity" and "-Infinity" (JSON has no literal for them; null would make them indistinguishable).
nlohmann::json json_number(double value);

}  // namespace glassbox
