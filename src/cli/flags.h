// Numeric flags, read as text and converted strictly at the CLI edge. CLI11's own conversion saturates
// on overflow (--epochs 99999999999999999999 became INT64_MAX), wraps "-1" into 2^64 - 1 for unsigned
// targets, reads "010" as octal and takes "nan" for a number. Here: decimal only, every value range-
// checked, every real finite; errors are one line naming the flag, the value and what was expected.
#pragma once

#include <c10/core/Device.h>

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace glassbox::cli {

// An integer flag within [lo, hi].
CLI::Option* add_integer(CLI::App& cmd, const std::string& name, int64_t& target, int64_t lo, int64_t hi,
                         const std::string& help);
CLI::Option* add_integer(CLI::App& cmd, const std::string& name, int& target, int lo, int hi, const std::string& help);
// An unsigned integer flag (a seed): digits only.
CLI::Option* add_unsigned(CLI::App& cmd, const std::string& name, uint64_t& target, const std::string& help);

// A real flag: finite, and accepted by `ok`; `expected` says what is accepted ("a number > 0").
CLI::Option* add_real(CLI::App& cmd, const std::string& name, double& target, const std::function<bool(double)>& ok,
                      const std::string& expected, const std::string& help);

// A device flag ("cpu", "cuda", "cuda:1"), parsed and checked once, as it is read.
CLI::Option* add_device(CLI::App& cmd, const std::string& name, c10::Device& target, const std::string& help);

// A flag naming one value of an enum: `names` is the library's list of its names, in the enum's order
// (the *_names() functions).
CLI::Option* add_choice_index(CLI::App& cmd, const std::string& name, const std::function<void(size_t)>& set, size_t current,
                              const std::vector<std::string>& names, const std::string& help);
template <typename E>
CLI::Option* add_choice(CLI::App& cmd, const std::string& name, E& target, const std::vector<std::string>& names,
                        const std::string& help) {
  return add_choice_index(cmd, name, [&target](size_t i) { target = static_cast<E>(i); }, static_cast<size_t>(target), names,
                          help);
}

// The conversions themselves, for flags whose text means several things (--target 3 or top2).
int64_t parse_integer(const std::string& flag, const std::string& text, int64_t lo, int64_t hi);
double parse_real(const std::string& flag, const std::string& text, const std::function<bool(double)>& ok,
                  const std::string& expected);
// The non-empty items of a comma-separated list ("ig,saliency" -> {"ig", "saliency"}).
std::vector<std::string> split_commas(const std::string& text);
// A comma-separated list of finite reals ("0.485,0.456,0.406").
std::vector<double> parse_reals(const std::string& flag, const std::string& text);

// Runs `f` (a library call that checks one flag's value); its glassbox::Error, "param value: reason",
// is reported as about the flag: "FLAG VALUE: reason".
template <typename F>
auto for_flag(const std::string& flag, const std::string& value, F&& f) -> decltype(f());

// The library's parameters a command's flags set: {"train_size", "--train-size"}, ...
using ParamFlags = std::vector<std::pair<std::string, std::string>>;
// Runs `f` (a library call taking several flags' values); an error about one of the parameters is said
// as about its flag ("FLAG VALUE: reason"); any other passes unchanged (it names its file).
template <typename F>
auto for_params(const ParamFlags& flags, F&& f) -> decltype(f());

}  // namespace glassbox::cli

#include "glassbox/util/error.h"

template <typename F>
auto glassbox::cli::for_flag(const std::string& flag, const std::string& value, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Error& e) {
    // An error about one of the library's parameters is said as the flag's: its reason, from the
    // error's fields. Any other keeps its whole message, after the flag and value it came from.
    throw Error(flag + " " + printable_excerpt(value) + ": " + (e.parameter().empty() ? std::string(e.what()) : e.reason()));
  }
}

template <typename F>
auto glassbox::cli::for_params(const ParamFlags& flags, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Error& e) {
    for (const auto& [param, flag] : flags)
      if (e.parameter() == param) throw Error(flag + " " + printable_excerpt(e.value()) + ": " + e.reason());
    throw;
  }
}
