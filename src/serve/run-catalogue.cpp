#include "run-catalogue.h"

#include <filesystem>
#include <map>
#include <sstream>

#include "glassbox/util/bounded-json.h"
#include "glassbox/util/error.h"
#include "glassbox/util/file-bytes.h"

namespace fs = std::filesystem;

namespace glassbox::serve {
namespace {

constexpr int kMaxDepth = 3;            // run directories below the root
constexpr int kMaxFileDepth = 3;        // files below a run
constexpr size_t kMaxEntries = 20000;   // directory entries looked at in one scan
constexpr uint64_t kMaxServedFile = 64u << 20;
constexpr uint64_t kMaxParsedFile = 16u << 20;  // JSON and CSV read to describe a run

const char* media_type_of(const fs::path& p) {
  const std::string e = p.extension().string();
  if (e == ".png") return "image/png";
  if (e == ".gif") return "image/gif";
  if (e == ".json") return "application/json";
  if (e == ".csv") return "text/csv";
  return nullptr;
}

bool is_plain_directory(const fs::path& p) {
  std::error_code ec;
  return fs::symlink_status(p, ec).type() == fs::file_type::directory;
}

bool is_plain_file(const fs::path& p, uint64_t* size) {
  std::error_code ec;
  if (fs::symlink_status(p, ec).type() != fs::file_type::regular) return false;
  *size = fs::file_size(p, ec);
  return !ec;
}

bool looks_like_run(const fs::path& dir, size_t& budget) {
  if (fs::exists(dir / "summary.json") || fs::exists(dir / "metrics.csv")) return true;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end && budget > 0; it.increment(ec), --budget)
    if (it->path().filename().string().rfind("events.out.tfevents.", 0) == 0) return true;
  return false;
}

// Every run directory under `root`, by id: its path relative to the root ("." for the root itself).
std::map<std::string, fs::path> scan_runs(const fs::path& root) {
  std::map<std::string, fs::path> runs;
  size_t budget = kMaxEntries;
  std::vector<std::pair<fs::path, int>> todo{{root, 0}};
  while (!todo.empty() && budget > 0) {
    auto [dir, depth] = todo.back();
    todo.pop_back();
    if (!is_plain_directory(dir)) continue;
    if (looks_like_run(dir, budget)) runs[dir == root ? "." : fs::relative(dir, root).generic_string()] = dir;
    if (depth >= kMaxDepth) continue;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end && budget > 0; it.increment(ec), --budget)
      if (is_plain_directory(it->path())) todo.push_back({it->path(), depth + 1});
  }
  return runs;
}

// A run's files that may be handed out, by name relative to the run.
std::map<std::string, RunFile> scan_files(const fs::path& run) {
  std::map<std::string, RunFile> files;
  size_t budget = kMaxEntries;
  std::vector<std::pair<fs::path, int>> todo{{run, 0}};
  while (!todo.empty() && budget > 0) {
    auto [dir, depth] = todo.back();
    todo.pop_back();
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end && budget > 0; it.increment(ec), --budget) {
      uint64_t size = 0;
      if (is_plain_directory(it->path())) {
        if (depth + 1 < kMaxFileDepth) todo.push_back({it->path(), depth + 1});
      } else if (const char* type = media_type_of(it->path()); type && is_plain_file(it->path(), &size) && size <= kMaxServedFile) {
        files[fs::relative(it->path(), run).generic_string()] = RunFile{it->path().string(), type, size};
      }
    }
  }
  return files;
}

std::optional<nlohmann::json> read_json(const std::map<std::string, RunFile>& files, const std::string& name) {
  const auto it = files.find(name);
  if (it == files.end() || it->second.size > kMaxParsedFile) return std::nullopt;
  try {
    return parse_bounded_json(read_file(it->second.path, kMaxParsedFile), name);
  } catch (const Error&) {
    return std::nullopt;  // a damaged file is left out of the description, not an error of the request
  }
}

// metrics.csv (step,name,value) as {"name": {"step": [...], "value": [...]}}.
nlohmann::json read_curves(const std::map<std::string, RunFile>& files) {
  nlohmann::json curves = nlohmann::json::object();
  const auto it = files.find("metrics.csv");
  if (it == files.end() || it->second.size > kMaxParsedFile) return curves;
  std::string text;
  try {
    text = read_file(it->second.path, kMaxParsedFile);
  } catch (const Error&) {
    return curves;
  }
  std::istringstream in(text);
  std::string line;
  std::getline(in, line);  // the header
  while (std::getline(in, line)) {
    const size_t a = line.find(','), b = line.rfind(',');
    if (a == std::string::npos || b == a) continue;
    try {
      const double step = std::stod(line.substr(0, a)), value = std::stod(line.substr(b + 1));
      nlohmann::json& c = curves[line.substr(a + 1, b - a - 1)];
      c["step"].push_back(step);
      c["value"].push_back(json_number(value));
    } catch (const std::exception&) {
      // a line that is not step,name,value
    }
  }
  return curves;
}

// evaluation.json's table: each method's metrics without their per-sample values and curves.
nlohmann::json evaluation_table(const nlohmann::json& e) {
  nlohmann::json table = nlohmann::json::array();
  if (!e.is_object() || !e.contains("methods") || !e["methods"].is_array()) return table;
  for (const auto& m : e["methods"]) {
    if (!m.is_object() || !m.contains("metrics") || !m["metrics"].is_object()) continue;
    nlohmann::json row = {{"method", m.value("method", "")}, {"metrics", nlohmann::json::object()}};
    for (auto it = m["metrics"].begin(); it != m["metrics"].end(); ++it) {
      nlohmann::json cell = nlohmann::json::object();
      for (const char* k : {"better", "mean", "ci95", "n", "verdict"})
        if (it.value().is_object() && it.value().contains(k)) cell[k] = it.value()[k];
      row["metrics"][it.key()] = cell;
    }
    table.push_back(row);
  }
  return table;
}

}  // namespace

nlohmann::json RunCatalogue::list() const {
  nlohmann::json runs = nlohmann::json::array();
  if (!enabled()) return {{"runs", runs}};
  for (const auto& [id, path] : scan_runs(root_)) {
    nlohmann::json run = {{"id", id}};
    const auto files = scan_files(path);
    if (auto s = read_json(files, "summary.json")) run["summary"] = *s;
    runs.push_back(run);
  }
  return {{"runs", runs}};
}

std::optional<nlohmann::json> RunCatalogue::describe(const std::string& id) const {
  if (!enabled()) return std::nullopt;
  const auto runs = scan_runs(root_);
  const auto it = runs.find(id);
  if (it == runs.end()) return std::nullopt;
  const auto files = scan_files(it->second);
  nlohmann::json d = {{"id", id}, {"curves", read_curves(files)}};
  if (auto s = read_json(files, "summary.json")) d["summary"] = *s;
  if (auto c = read_json(files, "confused/index.json")) d["confused"] = *c;
  nlohmann::json evaluations = nlohmann::json::object();
  nlohmann::json pictures = nlohmann::json::array();
  for (const auto& [name, f] : files) {
    if (f.media_type.rfind("image/", 0) == 0) pictures.push_back(name);
    if (fs::path(name).filename() == "evaluation.json")
      if (auto e = read_json(files, name)) evaluations[name] = evaluation_table(*e);
  }
  d["evaluations"] = evaluations;
  d["pictures"] = pictures;
  return d;
}

std::optional<RunFile> RunCatalogue::file(const std::string& id, const std::string& name) const {
  if (!enabled()) return std::nullopt;
  const auto runs = scan_runs(root_);
  const auto it = runs.find(id);
  if (it == runs.end()) return std::nullopt;
  const auto files = scan_files(it->second);
  const auto f = files.find(name);
  if (f == files.end()) return std::nullopt;
  return f->second;
}

}  // namespace glassbox::serve
