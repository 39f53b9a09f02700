// An enum option's names, written once, in the enum's order: its parser, its name and its list of
// names all read the same array, so they cannot disagree (the command line offers the list).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "glassbox/util/error.h"

namespace glassbox {

template <size_t N>
std::vector<std::string> enum_names(const char* const (&names)[N]) {
  return std::vector<std::string>(names, names + N);
}

// "expected a, b or c".
template <size_t N>
std::string expected_one_of(const char* const (&names)[N]) {
  std::string out = "expected ";
  for (size_t i = 0; i < N; ++i) out += std::string(i == 0 ? "" : i + 1 == N ? " or " : ", ") + names[i];
  return out;
}

// The enum value named `name`; an Error about `param` otherwise.
template <typename E, size_t N>
E enum_from_name(const char* const (&names)[N], const std::string& name, const char* param) {
  for (size_t i = 0; i < N; ++i)
    if (name == names[i]) return static_cast<E>(i);
  throw Error::about(param, name, expected_one_of(names));
}

template <typename E, size_t N>
const char* enum_name(const char* const (&names)[N], E value) {
  const size_t i = static_cast<size_t>(value);
  return i < N ? names[i] : "?";
}

}  // namespace glassbox
