// The glassbox command-line tool's subcommands. Each registers its flags on the app and returns the
// function that runs it once the command line is parsed.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace glassbox::cli {

using Run = std::function<void()>;

// Thrown to end the program with a status of its own (a launcher returning its ranks' status).
struct ExitStatus {
  int code;
};

// The program's command line, as main() received it (a launcher starts its ranks with it).
void set_command_line(int argc, char** argv);
const std::vector<std::string>& command_line();

Run add_train_command(CLI::App& app);
Run add_events_command(CLI::App& app);
Run add_explain_command(CLI::App& app);
Run add_evaluate_command(CLI::App& app);
Run add_morph_command(CLI::App& app);
Run add_confused_command(CLI::App& app);
Run add_layers_command(CLI::App& app);
Run add_upgrade_command(CLI::App& app);
Run add_serve_command(CLI::App& app);

}  // namespace glassbox::cli
