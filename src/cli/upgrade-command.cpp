// glassbox upgrade-checkpoint: a checkpoint of an earlier glassbox format (a TorchScript archive, which
// holds code) rewritten in the data-only format, read through the contained process.
#include <CLI/CLI.hpp>

#include <cstdio>

#include "commands.h"
#include "glassbox/models/checkpoint.h"
#include "glassbox/util/error.h"
#include "glassbox/util/output-paths.h"

namespace glassbox::cli {

Run add_upgrade_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("upgrade-checkpoint", "rewrite a checkpoint of an earlier glassbox format as data only");
  auto in = std::make_shared<std::string>(), out = std::make_shared<std::string>();
  cmd->add_option("input", *in, "the checkpoint to read")->required();
  cmd->add_option("output", *out, "where to write it (.ckpt)")->required();
  return [in, out] {
    check_output_file("output", *out, {".ckpt"});
    const models::CheckpointFile file(*in);
    file.save_as(*out);
    std::printf("%s: %s checkpoint, %s model, epoch %lld, written as data only\n", printable_excerpt(*out, 200).c_str(),
                file.converted() ? "converted an earlier" : "copied a current", file.meta().model.architecture().c_str(),
                static_cast<long long>(file.meta().epoch));
  };
}

}  // namespace glassbox::cli
