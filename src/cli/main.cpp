// glassbox: train, explain and look inside LibTorch classifiers.
#include <CLI/CLI.hpp>

#include <c10/util/Exception.h>

#include <cstdio>
#include <string>

#include "commands.h"
#include "glassbox/distributed/communicator.h"
#include "glassbox/util/error.h"
#include "glassbox/util/terminal-text.h"

namespace {

// Errors reach the user as one line: the first non-empty line of the message (libtorch's start with a
// newline), without libtorch's backtrace.
int fail(const std::string& message, int status = 2) {
  const size_t start = message.find_first_not_of(" \n");
  std::string line = start == std::string::npos ? "" : message.substr(start, message.find('\n', start) - start);
  if (line.empty()) line = "failed without a reason (please report this)";
  // Control characters (a terminal's escape sequences in a file name or a model's message) are shown
  // escaped, never sent to the terminal.
  std::fprintf(stderr, "glassbox: error: %s\n", glassbox::terminal_text(line).c_str());
  return status;
}

std::vector<std::string> arguments;

}  // namespace

void glassbox::cli::set_command_line(int argc, char** argv) { arguments.assign(argv, argv + argc); }
const std::vector<std::string>& glassbox::cli::command_line() { return arguments; }

int main(int argc, char** argv) {
  glassbox::cli::set_command_line(argc, argv);
  CLI::App app{"glassbox: see what a LibTorch classifier is thinking, through the gradients of its class scores"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("glassbox ") + GLASSBOX_VERSION);
  glassbox::cli::Run train = glassbox::cli::add_train_command(app);
  glassbox::cli::Run events = glassbox::cli::add_events_command(app);
  glassbox::cli::Run explain = glassbox::cli::add_explain_command(app);
  glassbox::cli::Run evaluate = glassbox::cli::add_evaluate_command(app);
  glassbox::cli::Run morph = glassbox::cli::add_morph_command(app);
  glassbox::cli::Run confused = glassbox::cli::add_confused_command(app);
  glassbox::cli::Run layers = glassbox::cli::add_layers_command(app);
  glassbox::cli::Run upgrade = glassbox::cli::add_upgrade_command(app);
  glassbox::cli::Run serve = glassbox::cli::add_serve_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return fail(e.what());
  } catch (const glassbox::Error& e) {  // a flag's value, checked as it was read
    return fail(e.what());
  }
  try {
    if (app.got_subcommand("train")) train();
    if (app.got_subcommand("events")) events();
    if (app.got_subcommand("explain")) explain();
    if (app.got_subcommand("evaluate")) evaluate();
    if (app.got_subcommand("morph")) morph();
    if (app.got_subcommand("confused")) confused();
    if (app.got_subcommand("layers")) layers();
    if (app.got_subcommand("upgrade-checkpoint")) upgrade();
    if (app.got_subcommand("serve")) serve();
    return 0;
  } catch (const glassbox::cli::ExitStatus& e) {
    return e.code;
  } catch (const glassbox::distributed::DistributedError& e) {  // another rank failed: not this input's fault
    return fail(e.what(), 1);
  } catch (const glassbox::Error& e) {
    return fail(e.what());
  } catch (const c10::Error& e) {
    return fail(e.what_without_backtrace());
  } catch (const std::exception& e) {
    return fail(e.what());
  }
}
