// Output locations, checked before any work so that a bad one fails with nothing written (files are
// then written with write_file_atomically, so that nothing half-written is ever left). `what` names the
// option or flag the location came from.
#pragma once

#include <initializer_list>
#include <string>

namespace glassbox {

// A file to write: its directory must exist (glassbox never creates the parents of a file argument:
// `--summary-json /nonexistent/x.json` once created /nonexistent) unless `in_created_directory` (a file
// inside the run directory, made with it), it must not be a directory, and its extension one of
// `extensions` when given (".png"). Throws glassbox::Error naming `what`.
void check_output_file(const std::string& what, const std::string& path,
                       std::initializer_list<const char*> extensions = {}, bool in_created_directory = false);

// Whether `path` lies inside `directory` (compared as absolute, normalised paths; nothing is resolved).
bool is_inside(const std::string& path, const std::string& directory);

// A directory to write into (created later, with its parents, once everything else is checked): it
// must be a directory if it exists, and nothing on its path may be a file.
void check_output_directory(const std::string& what, const std::string& path);

}  // namespace glassbox
