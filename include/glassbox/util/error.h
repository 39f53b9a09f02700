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
  explicit Error(const std::string& message) : std::runtime_error(message), message_(message) {}

  // An error about one parameter's value, with the three as fields, so that a caller can say it in its
  // own terms (the command line names its flag) without reading the text: "PARAMETER 'VALUE': REASON".
  static Error about(std::string parameter, std::string value, std::string reason);

  const std::string& parameter() const noexcept { return parameter_; }  // empty when not about one
  const std::string& value() const noexcept { return value_; }
  // What is wrong with the value (for a parameter), else the whole message without context.
  const std::string& reason() const noexcept { return parameter_.empty() ? message_ : reason_; }

  // What the caller was doing, as c10::Error::add_context: added as the error travels up, shown before
  // the message, outermost first ("explain image cat.jpg: layer 'x': ...").
  Error& add_context(const std::string& context);
  const char* what() const noexcept override { return text_.empty() ? message_.c_str() : text_.c_str(); }

 private:
  std::string message_, parameter_, value_, reason_;
  std::string text_;  // the context and the message, once context is added
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

inline Error Error::about(std::string parameter, std::string value, std::string reason) {
  Error e(parameter + " '" + printable_excerpt(value, 80) + "': " + reason);
  e.parameter_ = std::move(parameter);
  e.value_ = std::move(value);
  e.reason_ = std::move(reason);
  return e;
}

inline Error& Error::add_context(const std::string& context) {
  text_ = context + ": " + what();
  return *this;
}

}  // namespace glassbox

// GLASSBOX_CHECK(cond, "file ", path, ": magic ", magic, ", expected ", expected) throws glassbox::Error
// with the parts streamed together, as TORCH_CHECK does, without needing libtorch.
#define GLASSBOX_CHECK(cond, ...)                                      \
  do {                                                                 \
    if (!(cond)) throw ::glassbox::Error(::glassbox::detail::concat(__VA_ARGS__)); \
  } while (0)

// GLASSBOX_CHECK_PARAM(n >= 1, "n_steps", n, "expected at least 1") throws Error::about: the parameter,
// its value and the reason as fields.
#define GLASSBOX_CHECK_PARAM(cond, parameter, value, ...)                                                  \
  do {                                                                                                     \
    if (!(cond))                                                                                           \
      throw ::glassbox::Error::about(parameter, ::glassbox::detail::concat(value),                         \
                                     ::glassbox::detail::concat(__VA_ARGS__));                             \
  } while (0)
