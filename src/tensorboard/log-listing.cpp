#include "glassbox/tensorboard/log-listing.h"

#include <nlohmann/json.hpp>

#include <cstdio>

#include "glassbox/util/bounded-json.h"
#include "glassbox/util/error.h"
#include "glassbox/util/terminal-text.h"

namespace glassbox::tensorboard {

std::string runs_text(const std::vector<RunSummary>& runs) {
  std::string out;
  char line[512];
  for (const RunSummary& s : runs) {
    out += "run " + terminal_text(s.run) + " (" + std::to_string(s.files.size()) + (s.files.size() == 1 ? " file)\n" : " files)\n");
    for (const auto& [tag, t] : s.tags) {
      std::snprintf(line, sizeof line, "  %-32s %-9s %6lld values  steps %lld..%lld\n", printable_excerpt(tag, 200).c_str(),
                    kind_name(t.kind), static_cast<long long>(t.count), static_cast<long long>(t.first_step),
                    static_cast<long long>(t.last_step));
      out += line;
    }
    for (const FileProblem& p : s.problems)
      out += "  damaged: " + terminal_text(p.file) + " at byte " + std::to_string(p.problem.offset) + ": " +
             terminal_text(p.problem.reason) + "\n";
  }
  return out;
}

std::string runs_json(const std::string& path, const std::vector<RunSummary>& runs, int64_t dumped) {
  nlohmann::json out = {{"path", path}, {"runs", nlohmann::json::array()}};
  for (const RunSummary& s : runs) {
    nlohmann::json tags = nlohmann::json::array(), problems = nlohmann::json::array();
    for (const auto& [tag, t] : s.tags)
      tags.push_back({{"tag", tag}, {"kind", kind_name(t.kind)}, {"count", t.count}, {"first_step", t.first_step},
                      {"last_step", t.last_step}});
    for (const FileProblem& p : s.problems)
      problems.push_back({{"file", p.file}, {"offset", p.problem.offset}, {"reason", p.problem.reason},
                          {"torn_tail", p.problem.torn_tail}});
    out["runs"].push_back({{"run", s.run}, {"files", s.files}, {"tags", tags}, {"problems", problems}});
  }
  if (dumped >= 0) out["dumped"] = dumped;
  return json_text(out) + "\n";
}

void ValueListing::add(const std::string& run, const Event& event, const Value& v) {
  nlohmann::json item = {{"run", run}, {"step", event.step}, {"wall_time", event.wall_time}, {"kind", kind_name(v.kind)}};
  std::string shown;
  if (v.kind == ValueKind::scalar) {
    item["value"] = json_number(v.scalar);
    shown = item["value"].is_string() ? terminal_text(item["value"].get<std::string>()) : json_text(item["value"]);
  } else if (v.kind == ValueKind::image) {
    item["width"] = v.image.width, item["height"] = v.image.height, item["bytes"] = v.image.encoded.size();
    shown = std::to_string(v.image.width) + "x" + std::to_string(v.image.height) + " image, " +
            std::to_string(v.image.encoded.size()) + " bytes";
  } else if (v.kind == ValueKind::text && !v.tensor.strings.empty()) {
    item["text"] = v.tensor.strings[0];
    shown = terminal_text(v.tensor.strings[0]);
  } else {
    shown = kind_name(v.kind);
  }
  if (v.kind == ValueKind::histogram) item["num"] = v.histogram.num, item["min"] = v.histogram.min, item["max"] = v.histogram.max;
  if (!v.description.empty()) {
    item["description"] = v.description;
    shown += "  (" + terminal_text(v.description) + ")";
  }
  lines_.push_back(terminal_text(run) + " step " + std::to_string(event.step) + ": " + shown + "\n");
  items_.push_back(json_text(item, -1));  // invalid UTF-8 from a file is replaced, never thrown on
}

std::string ValueListing::text() const {
  std::string out;
  for (const std::string& line : lines_) out += line;
  return out;
}

std::string ValueListing::json() const {
  nlohmann::json values = nlohmann::json::array();
  for (const std::string& item : items_) values.push_back(nlohmann::json::parse(item));
  return json_text(values) + "\n";
}

}  // namespace glassbox::tensorboard
