// glassbox events: what is in a TensorBoard log directory (runs, tags, kinds, steps), and the images
// of a tag dumped as files, so users can get at every sample TensorBoard's dashboard thins out.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>

#include "commands.h"
#include "glassbox/tensorboard/log-directory.h"
#include "glassbox/tensorboard/log-listing.h"
#include "glassbox/util/atomic-file.h"
#include "glassbox/util/error.h"
#include "glassbox/util/output-paths.h"
#include "glassbox/util/terminal-text.h"

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
  if (!a.dump.empty()) check_output_directory("--dump", a.dump);
  ValueListing values;
  int64_t dumped = 0;
  const std::vector<RunSummary> runs = read_log_directory(a.path, [&](const std::string& run, const Event& event, const Value& v) {
    if (v.tag != a.tag) return;
    if (list_values) {
      values.add(run, event, v);
    } else if (!a.dump.empty() && v.kind == ValueKind::image) {
      if (dumped == 0) ensure_writable_directory(a.dump);  // created once there is something to put in it
      write_file_atomically((fs::path(a.dump) / image_file_name(run, v.tag, event.step, dumped, v.image.encoded)).string(),
                            v.image.encoded);
      ++dumped;
    }
  });
  GLASSBOX_CHECK(a.dump.empty() || dumped > 0, "--tag ", printable_excerpt(a.tag), ": no images under this tag in ",
                 a.path, " (nothing written to ", a.dump, ")");
  if (list_values) {
    std::fputs((a.json ? values.json() : values.text()).c_str(), stdout);
  } else if (a.json) {
    std::fputs(runs_json(a.path, runs, a.dump.empty() ? -1 : dumped).c_str(), stdout);
  } else {
    std::fputs(runs_text(runs).c_str(), stdout);
    if (!a.dump.empty())
      std::printf("wrote %lld images of %s to %s\n", static_cast<long long>(dumped), terminal_text(a.tag).c_str(),
                  terminal_text(a.dump).c_str());
  }
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
