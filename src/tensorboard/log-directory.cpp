#include "glassbox/tensorboard/log-directory.h"

#include <algorithm>
#include <filesystem>

#include "glassbox/util/error.h"

namespace fs = std::filesystem;

namespace glassbox::tensorboard {
namespace {

std::string safe_name(std::string s) {
  for (char& c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) c = '_';
  return s;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> find_event_files(const std::string& root) {
  std::vector<std::pair<std::string, std::string>> found;  // run, file
  std::error_code ec;
  GLASSBOX_CHECK(fs::exists(root, ec), root, ": no such file or directory");
  if (fs::is_regular_file(root, ec)) {
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

std::vector<RunSummary> read_log_directory(const std::string& path, const ValueVisitor& visit) {
  const auto files = find_event_files(path);
  GLASSBOX_CHECK(!files.empty(), path, ": no event files (names containing 'tfevents')");
  std::vector<RunSummary> runs;
  for (const auto& [run, file] : files) {
    if (runs.empty() || runs.back().run != run) runs.push_back(RunSummary{run, {}, {}, {}});
    RunSummary& summary = runs.back();
    summary.files.push_back(file);
    EventReader reader(file);
    while (const auto event = reader.next()) {
      for (const Value& v : event->values) {
        TagSummary& t = summary.tags[v.tag];
        if (t.count == 0) {
          t.kind = v.kind;
          t.first_step = t.last_step = event->step;
        }
        ++t.count;
        t.first_step = std::min(t.first_step, event->step);
        t.last_step = std::max(t.last_step, event->step);
        if (visit) visit(run, *event, v);
      }
    }
    if (const auto& p = reader.problem()) summary.problems.push_back({file, *p});
  }
  return runs;
}

std::string image_file_name(const std::string& run, const std::string& tag, int64_t step, int64_t n,
                            const std::string& encoded) {
  const bool gif = encoded.rfind("GIF8", 0) == 0;
  return safe_name(run == "." ? "" : run + "-") + safe_name(tag) + "-step" + std::to_string(step) + "-" +
         std::to_string(n) + (gif ? ".gif" : ".png");
}

}  // namespace glassbox::tensorboard
