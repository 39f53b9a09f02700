// glassbox events: what is in a TensorBoard log directory (runs, tags, kinds, steps), and the images
// of a tag dumped as files, so users can get at every sample TensorBoard's dashboard thins out.
#include <CLI/CLI.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>

#include "commands.h"
#include "glassbox/tensorboard/event-reader.h"
#include "glassbox/util/atomic-file.h"
#include "glassbox/util/bounded-json.h"
#include "glassbox/util/error.h"
#include "glassbox/util/terminal-text.h"
#include "outputs.h"

namespace fs = std::filesystem;
using namespace glassbox::tensorboard;

namespace glassbox::cli {
namespace {

struct EventsArgs {
  std::string path;
  std::string tag;
  std::string dump;
  bool json = false;
};

struct TagSummary {
  std::string kind;
  int64_t count = 0, first_step = 0, last_step = 0;
};

struct RunSummary {
  std::vector<std::string> files;
  std::map<std::string, TagSummary> tags;
  std::vector<nlohmann::json> problems;
};

// As TensorBoard finds them: regular files whose name contains "tfevents", anywhere below the logdir;
// the run is the file's directory relative to the logdir.
std::vector<std::pair<std::string, std::string>> find_event_files(const std::string& root) {
  std::vector<std::pair<std::string, std::string>> found;  // run, file
  std::error_code ec;
  GLASSBOX_CHECK(fs::exists(root, ec), root, ": no such file or directory");
  if (fs::is_regular_file(root)) {
    found.emplace_back(".", root);
    return found;
  }
  for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::skip_permission_denied, ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    if (!it->is_regular_file() || it->path().filename().string().find("tfevents") == std::string::npos) continue;
    std::string run = fs::relative(it->path().parent_path(), root).string();
    found.emplace_back(run.empty() ? "." : run, it->path().string());
  }
  std::sort(found.begin(), found.end());
  return found;
}

std::string safe_name(std::string s) {
  for (char& c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) c = '_';
  return s;
}

void run_events(const EventsArgs& a) {
  const auto files = find_event_files(a.path);
  GLASSBOX_CHECK(!files.empty(), a.path, ": no event files (names containing 'tfevents')");
  GLASSBOX_CHECK(a.dump.empty() || !a.tag.empty(), "--dump needs --tag: which tag's images to write");
  const bool list_values = !a.tag.empty() && a.dump.empty();
  nlohmann::json values = nlohmann::json::array();
  if (!a.dump.empty()) check_output_directory("--dump", a.dump);

  std::map<std::string, RunSummary> runs;
  int64_t dumped = 0;
  for (const auto& [run, file] : files) {
    RunSummary& summary = runs[run];
    summary.files.push_back(file);
    EventReader reader(file);
    while (auto event = reader.next()) {
      for (const Value& v : event->values) {
        TagSummary& t = summary.tags[v.tag];
        if (t.count == 0) {
          t.kind = kind_name(v.kind);
          t.first_step = t.last_step = event->step;
        }
        ++t.count;
        t.first_step = std::min(t.first_step, event->step);
        t.last_step = std::max(t.last_step, event->step);
        if (list_values && v.tag == a.tag) {
          nlohmann::json item = {{"run", run}, {"step", event->step}, {"wall_time", event->wall_time},
                                 {"kind", kind_name(v.kind)}};
          if (v.kind == ValueKind::scalar) item["value"] = json_number(v.scalar);
          if (v.kind == ValueKind::image)
            item["width"] = v.image.width, item["height"] = v.image.height, item["bytes"] = v.image.encoded.size();
          if (v.kind == ValueKind::text && !v.tensor.strings.empty()) item["text"] = v.tensor.strings[0];
          if (v.kind == ValueKind::histogram) item["num"] = v.histogram.num, item["min"] = v.histogram.min, item["max"] = v.histogram.max;
          if (!v.description.empty()) item["description"] = v.description;
          values.push_back(item);
        }
        if (!a.dump.empty() && v.tag == a.tag && v.kind == ValueKind::image) {
          if (dumped == 0) ensure_writable_directory(a.dump);  // created once there is something to put in it
          const bool gif = v.image.encoded.rfind("GIF8", 0) == 0;
          const std::string name = safe_name(run == "." ? "" : run + "-") + safe_name(v.tag) + "-step" +
                                   std::to_string(event->step) + "-" + std::to_string(dumped) + (gif ? ".gif" : ".png");
          write_file_atomically((fs::path(a.dump) / name).string(), v.image.encoded);
          ++dumped;
        }
      }
    }
    if (const auto& p = reader.problem())
      summary.problems.push_back({{"file", file}, {"offset", p->offset}, {"reason", p->reason}, {"torn_tail", p->torn_tail}});
  }

  GLASSBOX_CHECK(a.dump.empty() || dumped > 0, "--tag ", printable_excerpt(a.tag), ": no images under this tag in ",
                 a.path, " (nothing written to ", a.dump, ")");
  if (list_values) {
    if (a.json) {
      std::printf("%s\n", json_text(values).c_str());
      return;
    }
    for (const auto& item : values) {
      std::printf("%s step %lld: ", terminal_text(item["run"].get<std::string>()).c_str(), static_cast<long long>(item["step"].get<int64_t>()));
      if (item.contains("value")) std::printf("%s", item["value"].is_string() ? terminal_text(item["value"].get<std::string>()).c_str()
                                                                             : json_text(item["value"]).c_str());
      else if (item.contains("width")) std::printf("%dx%d image, %zu bytes", item["width"].get<int>(), item["height"].get<int>(),
                                                   item["bytes"].get<size_t>());
      else if (item.contains("text")) std::printf("%s", terminal_text(item["text"].get<std::string>()).c_str());
      else std::printf("%s", terminal_text(item["kind"].get<std::string>()).c_str());
      if (item.contains("description")) std::printf("  (%s)", terminal_text(item["description"].get<std::string>()).c_str());
      std::printf("\n");
    }
    return;
  }
  if (a.json) {
    nlohmann::json out = {{"path", a.path}, {"runs", nlohmann::json::array()}};
    for (const auto& [run, s] : runs) {
      nlohmann::json tags = nlohmann::json::array();
      for (const auto& [tag, t] : s.tags)
        tags.push_back({{"tag", tag}, {"kind", t.kind}, {"count", t.count}, {"first_step", t.first_step},
                        {"last_step", t.last_step}});
      out["runs"].push_back({{"run", run}, {"files", s.files}, {"tags", tags}, {"problems", s.problems}});
    }
    if (!a.dump.empty()) out["dumped"] = dumped;
    std::printf("%s\n", json_text(out).c_str());
    return;
  }
  for (const auto& [run, s] : runs) {
    std::printf("run %s (%zu file%s)\n", terminal_text(run).c_str(), s.files.size(), s.files.size() == 1 ? "" : "s");
    for (const auto& [tag, t] : s.tags)
      std::printf("  %-32s %-9s %6lld values  steps %lld..%lld\n", printable_excerpt(tag, 200).c_str(), t.kind.c_str(),
                  static_cast<long long>(t.count), static_cast<long long>(t.first_step),
                  static_cast<long long>(t.last_step));
    for (const auto& p : s.problems)
      std::printf("  damaged: %s at byte %llu: %s\n", terminal_text(p["file"].get<std::string>()).c_str(),
                  static_cast<unsigned long long>(p["offset"].get<uint64_t>()), terminal_text(p["reason"].get<std::string>()).c_str());
  }
  if (!a.dump.empty()) std::printf("wrote %lld images of %s to %s\n", static_cast<long long>(dumped), terminal_text(a.tag).c_str(), terminal_text(a.dump).c_str());
}

}  // namespace

Run add_events_command(CLI::App& app) {
  auto args = std::make_shared<EventsArgs>();
  CLI::App* cmd = app.add_subcommand("events", "List what a TensorBoard event file or log directory holds");
  cmd->add_option("path", args->path, "an event file, or a log directory (searched recursively)")->required();
  cmd->add_option("--tag", args->tag, "list this tag's values (step by step), or with --dump write its images");
  cmd->add_option("--dump", args->dump, "write the --tag's images (PNG or GIF) into this directory");
  cmd->add_flag("--json", args->json, "print the listing as JSON");
  return [args] { run_events(*args); };
}

}  // namespace glassbox::cli
