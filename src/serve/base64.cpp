#include "base64.h"

#include <openssl/evp.h>

#include "glassbox/util/error.h"

namespace glassbox::serve {

std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::string base64_decode(std::string_view text, const std::string& field, size_t max_bytes) {
  // A data URL names its media type before the payload; only the payload is base64.
  if (text.substr(0, 5) == "data:") {
    const size_t comma = text.find(',');
    GLASSBOX_CHECK_PARAM(comma != std::string_view::npos && text.substr(0, comma).find(";base64") != std::string_view::npos,
                         field, printable_excerpt(text), "a data URL that is not base64");
    text.remove_prefix(comma + 1);
  }
  std::string clean;
  clean.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n' || c == '\r') continue;
    const bool alphabet = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
    GLASSBOX_CHECK_PARAM(alphabet || c == '=', field, printable_excerpt(text), "not base64: character " + std::to_string(i) +
                         " is outside the alphabet");
    clean += c;
  }
  GLASSBOX_CHECK_PARAM(!clean.empty() && clean.size() % 4 == 0, field, printable_excerpt(text),
                       "not base64: " + std::to_string(clean.size()) + " characters, expected a non-zero multiple of 4");
  const size_t first_pad = clean.find('=');
  const size_t pad = first_pad == std::string::npos ? 0 : clean.size() - first_pad;
  GLASSBOX_CHECK_PARAM(pad <= 2 && (pad == 0 || clean.find_first_not_of('=', first_pad) == std::string::npos), field,
                       printable_excerpt(text), "not base64: padding inside the text");
  const size_t size = clean.size() / 4 * 3 - pad;
  GLASSBOX_CHECK_PARAM(size <= max_bytes, field, printable_excerpt(text),
                       "decodes to " + std::to_string(size) + " bytes, at most " + std::to_string(max_bytes));
  std::string out(clean.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(clean.data()), static_cast<int>(clean.size()));
  GLASSBOX_CHECK_PARAM(n >= 0, field, printable_excerpt(text), "not base64");
  out.resize(size);
  return out;
}

}  // namespace glassbox::serve
