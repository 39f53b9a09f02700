// glassbox events: what is in a TensorBoard log directory (runs, tags, kinds, steps), and the images
// of a tag dumped as files, so users can get at every sample TensorBoard's dashboard thins out.
#include <CLI/CLI.hpp>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>

#include "commands.h"
#include "glassbox/tensorboard/log-directory.h"
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

void run_events(const EventsArgs& a) {
  GLASSBOX_CHECK(a.dump.empty() || !a.tag.empty(), "--dump needs --tag: which tag's images to write");
  const bool list_values = !a.tag.empty() && a.dump.empty();
  nlohmann::json values = nlohmann::json::array();
  if (!a.dump.empty()) check_output_directory("--dump", a.dump);
  int64_t dumped = 0;
  const std::vector<RunSummary> runs = read_log_directory(a.path, [&](const std::string& run, const Event& event, const Value& v) {
    if (v.tag != a.tag) return;
    if (list_values) {
      nlohmann::json item = {{"run", run}, {"step", event.step}, {"wall_time", event.wall_time}, {"kind", kind_name(v.kind)}};
      if (v.kind == ValueKind::scalar) item["value"] = json_number(v.scalar);
      if (v.kind == ValueKind::image)
        item["width"] = v.image.width, item["height"] = v.image.height, item["bytes"] = v.image.encoded.size();
      if (v.kind == ValueKind::text && !v.tensor.strings.empty()) item["text"] = v.tensor.strings[0];
      if (v.kind == ValueKind::histogram) item["num"] = v.histogram.num, item["min"] = v.histogram.min, item["max"] = v.histogram.max;
      if (!v.description.empty()) item["description"] = v.description;
      values.push_back(item);
    } else if (!a.dump.empty() && v.kind == ValueKind::image) {
      if (dumped == 0) ensure_writable_directory(a.dump);  // created once there is something to put in it
      const std::string name = image_file_name(run, v.tag, event.step, dumped, v.image.encoded);
      write_file_atomically((fs::path(a.dump) / name).string(), v.image.encoded);
      ++dumped;
    }
  });

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
    if (!a.dump.empty()) out["dumped"] = dumped;
    std::printf("%s\n", json_text(out).c_str());
    return;
  }
  for (const RunSummary& s : runs) {
    std::printf("run %s (%zu file%s)\n", terminal_text(s.run).c_str(), s.files.size(), s.files.size() == 1 ? "" : "s");
    for (const auto& [tag, t] : s.tags)
      std::printf("  %-32s %-9s %6lld values  steps %lld..%lld\n", printable_excerpt(tag, 200).c_str(), kind_name(t.kind),
                  static_cast<long long>(t.count), static_cast<long long>(t.first_step),
                  static_cast<long long>(t.last_step));
    for (const FileProblem& p : s.problems)
      std::printf("  damaged: %s at byte %llu: %s\n", terminal_text(p.file).c_str(),
                  static_cast<unsigned long long>(p.problem.offset), terminal_text(p.problem.reason).c_str());
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
