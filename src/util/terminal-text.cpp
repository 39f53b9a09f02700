#include "glassbox/util/terminal-text.h"

#include <cstdint>

namespace glassbox {
namespace {

void escape_byte(std::string& out, unsigned char c) {
  static const char kHex[] = "0123456789ABCDEF";
  out += "\\x";
  out += kHex[c >> 4];
  out += kHex[c & 0xF];
}

// The length of the valid UTF-8 sequence at text[i] (2..4) whose code point is not a C1 control, or 0.
size_t utf8_length(std::string_view text, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  size_t n = 0;
  uint32_t cp = 0;
  if (lead >= 0xC2 && lead <= 0xDF) n = 2, cp = lead & 0x1F;
  else if (lead >= 0xE0 && lead <= 0xEF) n = 3, cp = lead & 0x0F;
  else if (lead >= 0xF0 && lead <= 0xF4) n = 4, cp = lead & 0x07;
  else return 0;
  if (text.size() - i < n) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  const bool overlong = (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000);
  const bool surrogate = cp >= 0xD800 && cp <= 0xDFFF;
  const bool c1 = cp >= 0x80 && cp <= 0x9F;
  return overlong || surrogate || c1 || cp > 0x10FFFF ? 0 : n;
}

}  // namespace

std::string terminal_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7F) {
      out += static_cast<char>(c);
      ++i;
    } else if (const size_t n = c >= 0x80 ? utf8_length(text, i) : 0) {
      out.append(text.substr(i, n));
      i += n;
    } else {
      escape_byte(out, c);
      ++i;
    }
  }
  return out;
}

}  // namespace glassbox
