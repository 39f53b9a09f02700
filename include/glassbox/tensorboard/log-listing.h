// What a log directory holds, said for people (one line per tag or value) or as JSON for programs:
// the listings `glassbox events` prints, here so that any program can print the same.
#pragma once

#include <string>
#include <vector>

#include "glassbox/tensorboard/event-reader.h"
#include "glassbox/tensorboard/log-directory.h"

namespace glassbox::tensorboard {

// Each run with its files, its tags (kind, count, first and last step) and its damaged files. Names
// from the files are escaped for a terminal in the text; the JSON holds them as they are.
std::string runs_text(const std::vector<RunSummary>& runs);
// {"path": ..., "runs": [{"run", "files", "tags": [{"tag", "kind", "count", "first_step", "last_step"}],
// "problems": [{"file", "offset", "reason", "torn_tail"}]}]}, plus "dumped" when `dumped` >= 0.
std::string runs_json(const std::string& path, const std::vector<RunSummary>& runs, int64_t dumped = -1);

// One tag's values, step by step: a scalar's value, an image's size, a text, a histogram's count and range.
class ValueListing {
 public:
  void add(const std::string& run, const Event& event, const Value& value);
  std::string text() const;  // a line per value
  std::string json() const;  // [{"run", "step", "wall_time", "kind", "value" | "width", "height", "bytes" | ...}]

 private:
  std::vector<std::string> lines_, items_;  // each value's line, and its JSON object
};

}  // namespace glassbox::tensorboard
