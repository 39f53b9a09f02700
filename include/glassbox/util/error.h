// glassbox's one exception type: every failure a user can cause (a malformed file, a bad flag value,
// an unwritable directory) is reported as a glassbox::Error whose message names the thing at fault,
// the offending value and what was expected, on one line.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace glassbox {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

namespace detail {
template <typename... Parts>
std::string concat(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}
}  // namespace detail

}  // namespace glassbox

// GLASSBOX_CHECK(cond, "file ", path, ": magic ", magic, ", expected ", expected) throws glassbox::Error
// with the parts streamed together, as TORCH_CHECK does, without needing libtorch.
#define GLASSBOX_CHECK(cond, ...)                                      \
  do {                                                                 \
    if (!(cond)) throw ::glassbox::Error(::glassbox::detail::concat(__VA_ARGS__)); \
  } while (0)
