#include "glassbox/util/output-paths.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "glassbox/util/error.h"

namespace fs = std::filesystem;

namespace glassbox {

void check_output_file(const std::string& what, const std::string& path, std::initializer_list<const char*> extensions,
                       bool in_created_directory) {
  GLASSBOX_CHECK(!path.empty(), what, ": empty, expected a file name");
  const fs::path p(path);
  if (extensions.size() > 0) {
    bool known = false;
    std::string list;
    for (const char* e : extensions) known = known || p.extension() == e, list += (list.empty() ? "" : " or ") + std::string(e);
    GLASSBOX_CHECK(known, what, " ", path, ": expected a ", list, " file");
  }
  std::error_code ec;
  GLASSBOX_CHECK(!fs::is_directory(p, ec), what, " ", path, ": is a directory, expected a file");
  const fs::path parent = p.parent_path().empty() ? fs::path(".") : p.parent_path();
  if (in_created_directory) {
    check_output_directory(what, parent.string());
    return;
  }
  GLASSBOX_CHECK(fs::is_directory(parent, ec), what, " ", path, ": directory ", parent.string(),
                 " does not exist (glassbox does not create it)");
  GLASSBOX_CHECK(::access(parent.c_str(), W_OK | X_OK) == 0, what, " ", path, ": directory ", parent.string(),
                 " is not writable");
}

bool is_inside(const std::string& path, const std::string& directory) {
  const fs::path p = fs::absolute(path).lexically_normal(), d = fs::absolute(directory).lexically_normal();
  const auto mismatch = std::mismatch(d.begin(), d.end(), p.begin(), p.end());
  return mismatch.first == d.end() && mismatch.second != p.end();
}

void check_output_directory(const std::string& what, const std::string& path) {
  GLASSBOX_CHECK(!path.empty(), what, ": empty, expected a directory");
  std::error_code ec;
  for (fs::path p(path); !p.empty(); p = p.parent_path()) {
    if (fs::exists(p, ec)) {
      GLASSBOX_CHECK(fs::is_directory(p, ec), what, " ", path, ": ", p.string(), " is not a directory");
      GLASSBOX_CHECK(::access(p.c_str(), W_OK | X_OK) == 0, what, " ", path, ": ", p.string(), " is not writable");
      return;
    }
    if (p == p.parent_path()) break;
  }
}

}  // namespace glassbox
