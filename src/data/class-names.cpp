#include "glassbox/data/class-names.h"

#include <cstdint>

#include "glassbox/util/error.h"
#include "glassbox/util/file-bytes.h"

namespace glassbox::data {

bool valid_utf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    uint32_t cp = n == 1 ? c : c & (0x7F >> n);
    for (size_t k = 1; k < n; ++k) {
      const unsigned char d = static_cast<unsigned char>(s[i + k]);
      if ((d >> 6) != 0x2) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += n;
  }
  return true;
}

void validate_class_name(const std::string& name, const std::string& what) {
  GLASSBOX_CHECK(!name.empty(), what, ": an empty class name");
  GLASSBOX_CHECK(name.size() <= kMaxClassNameBytes, what, ": a class name of ", name.size(), " bytes, expected at most ",
                 kMaxClassNameBytes);
  GLASSBOX_CHECK(valid_utf8(name), what, ": class name '", printable_excerpt(name), "' is not UTF-8 text");
  GLASSBOX_CHECK(name.find_first_of("\r\n") == std::string::npos, what, ": class name '", printable_excerpt(name),
                 "' holds a line break");
}

std::vector<std::string> read_class_names(const std::string& path, size_t expected) {
  // Bounded by what the most classes (models::kMaxClasses) with the longest names could take.
  const std::string text = read_file(path, size_t(1) << 24);
  std::vector<std::string> names;
  size_t line_no = 0, start = 0;
  while (start < text.size()) {
    const size_t end = std::min(text.find('\n', start), text.size());
    std::string line = text.substr(start, end - start);
    start = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    GLASSBOX_CHECK(valid_utf8(line), path, ": line ", line_no, " is not UTF-8 text ('", printable_excerpt(line),
                   "'); save it as UTF-8");
    GLASSBOX_CHECK(line.size() <= kMaxClassNameBytes, path, ": line ", line_no, " is ", line.size(),
                   " bytes long, expected a class name of at most ", kMaxClassNameBytes);
    GLASSBOX_CHECK(line.find('\r') == std::string::npos, path, ": line ", line_no, " holds a carriage return");
    names.push_back(std::move(line));
  }
  GLASSBOX_CHECK(!names.empty(), path, ": no class names (one per line expected)");
  GLASSBOX_CHECK(expected == 0 || names.size() == expected, path, ": ", names.size(), " class names, expected ", expected);
  return names;
}

}  // namespace glassbox::data
