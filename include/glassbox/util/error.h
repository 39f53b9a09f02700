// glassbox's one exception type: every failure a user can cause (a malformed file, a bad flag value,
// an unwritable directory) is reported as a glassbox::Error whose message names the thing at fault,
// the offending value and what was expected, on one line.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>

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

// `text` made printable (other bytes become '?') and cut to `max_chars`: untrusted strings (names
// from a file, a flag's value) go into one-line messages only this way.
inline std::string printable_excerpt(std::string_view text, size_t max_chars = 40) {
  std::string out;
  for (size_t i = 0; i < text.size() && i < max_chars; ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    out += (c >= 0x20 && c < 0x7F) ? static_cast<char>(c) : '?';
  }
  if (text.size() > max_chars) out += "...";
  return out;
}

}  // namespace glassbox

// GLASSBOX_CHECK(cond, "file ", path, ": magic ", magic, ", expected ", expected) throws glassbox::Error
// with the parts streamed together, as TORCH_CHECK does, without needing libtorch.
#define GLASSBOX_CHECK(cond, ...)                                      \
  do {                                                                 \
    if (!(cond)) throw ::glassbox::Error(::glassbox::detail::concat(__VA_ARGS__)); \
  } while (0)
