// Class names from a text file, read by one rule wherever they come from (a dataset's classes.txt,
// CIFAR's batches.meta.txt, a TorchScript model's --classes file): one UTF-8 name per line, "\r\n" or
// "\n", blank lines skipped, each name at most kMaxClassNameBytes bytes. A file that breaks the rule is
// an error naming it and the line, never a name quietly changed.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace glassbox::data {

inline constexpr size_t kMaxClassNameBytes = 1024;

// Reads `path` by the rule above; at least one name. `expected` > 0: exactly that many names.
std::vector<std::string> read_class_names(const std::string& path, size_t expected = 0);

// Throws glassbox::Error naming `what` unless `name` is a class name by the same rule (non-empty UTF-8
// without line breaks, at most kMaxClassNameBytes bytes): for names that come from elsewhere (JSON).
void validate_class_name(const std::string& name, const std::string& what);

// Whether `text` is valid UTF-8 (no overlong forms, surrogates or code points past U+10FFFF).
bool valid_utf8(const std::string& text);

}  // namespace glassbox::data
