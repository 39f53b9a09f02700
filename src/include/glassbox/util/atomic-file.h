// Writing a file so that readers see either the old content or the whole new one, never a torn file.
#pragma once

#include <string>

namespace glassbox {

// Writes `bytes` to `path` + a unique temporary suffix, fsyncs it, renames it over `path` and fsyncs the
// directory. On any failure the temporary file is removed, `path` is untouched, and a glassbox::Error
// names the path and the reason.
void write_file_atomically(const std::string& path, const std::string& bytes);

// Checks that `dir` exists or can be created and that a file can be created in it; `dir` itself must
// not be a symbolic link (writing into it would write wherever the link points).
void ensure_writable_directory(const std::string& dir);

}  // namespace glassbox
