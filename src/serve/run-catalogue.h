// The page's run browser: the runs found under one directory given at start (glassbox train's --out, or
// a folder of them), read when asked. Requests name a run by the id the listing gave and a file by the
// name the run's listing gave; both are looked up in a fresh scan, never joined onto a path. Symbolic
// links are not followed, and only pictures and JSON/CSV under a size cap are handed out.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace glassbox::serve {

struct RunFile {
  std::string path;        // on disk, from the scan
  std::string media_type;  // "image/png", "image/gif", "application/json", "text/csv"
  uint64_t size = 0;
};

class RunCatalogue {
 public:
  explicit RunCatalogue(std::string root) : root_(std::move(root)) {}
  bool enabled() const { return !root_.empty(); }

  // {"runs": [{"id", "summary"}]}: every directory up to three levels under the root (the root
  // included) holding a summary.json, a metrics.csv or TensorBoard events.
  nlohmann::json list() const;
  // A run's curves (metrics.csv as series by name), summary, mined confusions (confused/index.json), the
  // evaluation tables (evaluation.json without its per-sample values) and its pictures; nullopt when no
  // run has that id.
  std::optional<nlohmann::json> describe(const std::string& id) const;
  // A file `name` as the run's description listed it; nullopt otherwise.
  std::optional<RunFile> file(const std::string& id, const std::string& name) const;

 private:
  std::string root_;
};

}  // namespace glassbox::serve
