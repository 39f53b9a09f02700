// The glassbox command-line tool's subcommands. Each registers its flags on the app and returns the
// function that runs it once the command line is parsed.
#pragma once

#include <functional>

namespace CLI {
class App;
}

namespace glassbox::cli {

using Run = std::function<void()>;

Run add_train_command(CLI::App& app);
Run add_events_command(CLI::App& app);
Run add_explain_command(CLI::App& app);
Run add_morph_command(CLI::App& app);
Run add_confused_command(CLI::App& app);
Run add_layers_command(CLI::App& app);

}  // namespace glassbox::cli
