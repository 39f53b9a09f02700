// What a TensorBoard log directory holds, read as TensorBoard reads it: every regular file whose name
// contains "tfevents", anywhere below the directory; a run is a file's directory relative to it. Each
// file is read once, record by record (event-reader.h), and summarised per run and tag; a caller that
// wants the values themselves (to list a tag's, or write its images) sees each one as it is read.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "glassbox/tensorboard/event-reader.h"

namespace glassbox::tensorboard {

struct TagSummary {
  ValueKind kind = ValueKind::unknown;  // of the tag's first value
  int64_t count = 0;
  int64_t first_step = 0, last_step = 0;
};

struct FileProblem {
  std::string file;
  ReadProblem problem;  // where the file is damaged; what was before it was read
};

struct RunSummary {
  std::string run;  // "." for files directly in the directory (or a file given alone)
  std::vector<std::string> files;
  std::map<std::string, TagSummary> tags;
  std::vector<FileProblem> problems;
};

// (run, file) for every event file below `path` (or `path` itself when it is a file), sorted. Throws
// glassbox::Error naming `path` when it does not exist.
std::vector<std::pair<std::string, std::string>> find_event_files(const std::string& path);

// Called for each value as it is read, with its run and event.
using ValueVisitor = std::function<void(const std::string& run, const Event& event, const Value& value)>;

// Every run's summary, in run order. Throws glassbox::Error naming `path` when it holds no event files.
std::vector<RunSummary> read_log_directory(const std::string& path, const ValueVisitor& visit = ValueVisitor());

// A file name for an image value, safe on any filesystem: RUN-TAG-stepS-N.png (or .gif for an animation).
std::string image_file_name(const std::string& run, const std::string& tag, int64_t step, int64_t n,
                            const std::string& encoded);

}  // namespace glassbox::tensorboard
