#include "flags.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <sstream>

#include "glassbox/util/device.h"
#include "glassbox/util/error.h"

namespace glassbox::cli {
namespace {

// The value as the user typed it, made safe for a one-line message.
std::string shown(const std::string& text) { return text.empty() ? "''" : printable_excerpt(text, 40); }

bool all_digits(const std::string& s, size_t from) {
  return s.size() > from && s.find_first_not_of("0123456789", from) == std::string::npos;
}

template <typename T>
std::string text_of(T v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

// A number as people write one: an optional '-', digits with an optional decimal point, an optional
// exponent. strtod alone also takes C's hexadecimal ("0x10"), a leading '+' or blanks, "inf" and "nan".
bool is_plain_decimal(const std::string& t) {
  size_t i = t.size() > 0 && t[0] == '-' ? 1 : 0, digits = 0;
  for (; i < t.size() && std::isdigit(static_cast<unsigned char>(t[i])); ++i) ++digits;
  if (i < t.size() && t[i] == '.')
    for (++i; i < t.size() && std::isdigit(static_cast<unsigned char>(t[i])); ++i) ++digits;
  if (digits == 0) return false;
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    if (i < t.size() && (t[i] == '+' || t[i] == '-')) ++i;
    size_t exponent = 0;
    for (; i < t.size() && std::isdigit(static_cast<unsigned char>(t[i])); ++i) ++exponent;
    if (exponent == 0) return false;
  }
  return i == t.size();
}

}  // namespace

int64_t parse_integer(const std::string& flag, const std::string& text, int64_t lo, int64_t hi) {
  const std::string expected = "expected an integer in " + std::to_string(lo) + ".." + std::to_string(hi);
  GLASSBOX_CHECK(all_digits(text, text[0] == '-' ? 1 : 0), flag, " ", shown(text), ": ", expected);
  errno = 0;
  const long long v = std::strtoll(text.c_str(), nullptr, 10);
  GLASSBOX_CHECK(errno != ERANGE && v >= lo && v <= hi, flag, " ", shown(text), ": ", expected);
  return v;
}

double parse_real(const std::string& flag, const std::string& text, const std::function<bool(double)>& ok,
                  const std::string& expected) {
  char* end = nullptr;
  errno = 0;
  const double v = text.empty() ? NAN : std::strtod(text.c_str(), &end);
  const bool whole = is_plain_decimal(text) && end == text.c_str() + text.size();
  GLASSBOX_CHECK(whole && std::isfinite(v) && errno != ERANGE && ok(v), flag, " ", shown(text), ": expected ", expected);
  return v;
}

std::vector<double> parse_reals(const std::string& flag, const std::string& text) {
  std::vector<double> out;
  std::stringstream in(text);
  for (std::string part; std::getline(in, part, ',');) {
    char* end = nullptr;
    const double v = part.empty() ? NAN : std::strtod(part.c_str(), &end);
    GLASSBOX_CHECK(is_plain_decimal(part) && end == part.c_str() + part.size() && std::isfinite(v), flag, " ", shown(text), ": '",
                   shown(part), "' is not a finite number");
    out.push_back(v);
  }
  GLASSBOX_CHECK(!out.empty(), flag, " ", shown(text), ": expected comma-separated numbers");
  return out;
}

CLI::Option* add_integer(CLI::App& cmd, const std::string& name, int64_t& target, int64_t lo, int64_t hi,
                         const std::string& help) {
  return cmd
      .add_option_function<std::string>(
          name, [&target, name, lo, hi](const std::string& v) { target = parse_integer(name, v, lo, hi); }, help)
      ->type_name("INT")
      ->default_str(text_of(target));
}

CLI::Option* add_integer(CLI::App& cmd, const std::string& name, int& target, int lo, int hi, const std::string& help) {
  return cmd
      .add_option_function<std::string>(
          name, [&target, name, lo, hi](const std::string& v) { target = static_cast<int>(parse_integer(name, v, lo, hi)); },
          help)
      ->type_name("INT")
      ->default_str(text_of(target));
}

CLI::Option* add_unsigned(CLI::App& cmd, const std::string& name, uint64_t& target, const std::string& help) {
  return cmd
      .add_option_function<std::string>(
          name,
          [&target, name](const std::string& v) {
            errno = 0;
            const unsigned long long x = all_digits(v, 0) ? std::strtoull(v.c_str(), nullptr, 10) : 0;
            GLASSBOX_CHECK(all_digits(v, 0) && errno != ERANGE, name, " ", shown(v),
                           ": expected an integer in 0..18446744073709551615");
            target = x;
          },
          help)
      ->type_name("UINT")
      ->default_str(text_of(target));
}

CLI::Option* add_device(CLI::App& cmd, const std::string& name, c10::Device& target, const std::string& help) {
  return cmd
      .add_option_function<std::string>(
          name, [&target, name](const std::string& v) { target = for_flag(name, v, [&] { return parse_device(v); }); }, help)
      ->type_name("DEVICE")
      ->default_str(target.str());
}

CLI::Option* add_choice_index(CLI::App& cmd, const std::string& name, const std::function<void(size_t)>& set, size_t current,
                              const std::vector<std::string>& names, const std::string& help) {
  std::string expected;
  for (size_t i = 0; i < names.size(); ++i) expected += (i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + names[i];
  return cmd
      .add_option_function<std::string>(
          name,
          [set, names, name, expected](const std::string& v) {
            const auto it = std::find(names.begin(), names.end(), v);
            GLASSBOX_CHECK(it != names.end(), name, " ", shown(v), ": expected ", expected);
            set(static_cast<size_t>(it - names.begin()));
          },
          help + " (" + expected + ")")
      ->type_name("NAME")
      ->default_str(current < names.size() ? names[current] : "");
}

CLI::Option* add_real(CLI::App& cmd, const std::string& name, double& target, const std::function<bool(double)>& ok,
                      const std::string& expected, const std::string& help) {
  return cmd
      .add_option_function<std::string>(
          name, [&target, name, ok, expected](const std::string& v) { target = parse_real(name, v, ok, expected); }, help)
      ->type_name("FLOAT")
      ->default_str(text_of(target));
}

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> out;
  for (size_t start = 0; start <= text.size();) {
    const size_t comma = std::min(text.find(',', start), text.size());
    if (comma > start) out.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

}  // namespace glassbox::cli
