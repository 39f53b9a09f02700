// glassbox serve: explanations of deployed models over HTTP (KServe V1 and TorchServe routes, Prometheus
// metrics) and the page to look at them. The flags map onto serve::ServerOptions; the server is the
// library's.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>

#include "commands.h"
#include "flags.h"
#include "glassbox/models/model.h"
#include "glassbox/serve/server.h"
#include "glassbox/util/error.h"
#include "glassbox/util/file-bytes.h"
#include "glassbox/util/terminal-text.h"
#include "glassbox/util/threads.h"

namespace glassbox::cli {
namespace {

struct ServeArgs {
  std::vector<std::string> models;
  std::vector<std::string> names;
  std::string token_file;
  serve::ServerOptions options;
  c10::Device device = c10::Device(c10::kCPU);
  int threads = 0;
};

const ParamFlags kParamFlags = {
    {"host", "--host"}, {"port", "--port"}, {"max_batch", "--max-batch"}, {"max_delay_ms", "--max-delay-ms"},
    {"max_queue", "--max-queue"}, {"max_body_bytes", "--max-body-bytes"}, {"max_instances", "--max-instances"},
    {"request_timeout_ms", "--request-timeout-ms"}, {"read_timeout_ms", "--read-timeout-ms"},
    {"max_connections", "--max-connections"}, {"drain_timeout_ms", "--drain-timeout-ms"}, {"name", "--name"}};

// The token: the file's first line, without surrounding spaces.
std::string read_token(const std::string& path) {
  std::string text = read_file(path, 4096);
  const size_t end = text.find_first_of("\r\n");
  if (end != std::string::npos) text.resize(end);
  const size_t a = text.find_first_not_of(" \t"), b = text.find_last_not_of(" \t");
  text = a == std::string::npos ? "" : text.substr(a, b - a + 1);
  GLASSBOX_CHECK(text.size() >= 16, "--token-file ", path, ": the token on its first line has ", text.size(),
                 " characters, expected at least 16 (openssl rand -hex 32 makes one)");
  return text;
}

void run_serve(ServeArgs& a) {
  GLASSBOX_CHECK(!a.models.empty(), "--model: none given; serve needs at least one (a .ckpt, or a TorchScript file with its model.json)");
  GLASSBOX_CHECK(a.names.size() <= a.models.size(), "--name: ", a.names.size(), " names for ", a.models.size(),
                 " models; give at most one per --model, in the same order");
  std::vector<std::string> names;
  for (size_t i = 0; i < a.models.size(); ++i)
    names.push_back(i < a.names.size() ? a.names[i] : std::filesystem::path(a.models[i]).stem().string());
  if (!a.token_file.empty()) a.options.token(read_token(a.token_file));
  if (!a.options.runs().empty())
    GLASSBOX_CHECK(std::filesystem::is_directory(a.options.runs()), "--runs ", a.options.runs(), ": not a directory");
  if (!a.options.samples().empty())
    GLASSBOX_CHECK(std::filesystem::is_directory(a.options.samples()), "--samples ", a.options.samples(), ": not a directory");
  // Every option is checked before a model is loaded or a port taken.
  serve::Server server = for_params(kParamFlags, [&] { return serve::Server(a.options); });
  configure_threads(a.threads);
  for (size_t i = 0; i < a.models.size(); ++i) {
    auto model = std::make_shared<models::Model>(for_flag("--model", a.models[i], [&] { return models::load_model(a.models[i]); }));
    model->to(a.device);
    for_params(kParamFlags, [&] { server.add_model(names[i], model); });
  }
  server.bind();
  serve::drain_on_signals(server);
  const std::string base = "http://" + (a.options.host().find(':') != std::string::npos ? "[" + a.options.host() + "]" : a.options.host()) +
                           ":" + std::to_string(server.port());
  for (size_t i = 0; i < names.size(); ++i)
    std::printf("serving %s (%s): POST %s/v1/models/%s:explain\n", terminal_text(names[i]).c_str(),
                terminal_text(a.models[i]).c_str(), base.c_str(), terminal_text(names[i]).c_str());
  std::printf("the page: %s/   metrics: %s/metrics%s\n", base.c_str(), base.c_str(),
              a.options.token().empty() ? "" : "   (a bearer token is required)");
  std::fflush(stdout);
  server.listen();
  std::printf("drained and stopped\n");
}

}  // namespace

Run add_serve_command(CLI::App& app) {
  auto a = std::make_shared<ServeArgs>();
  serve::ServerOptions& o = a->options;
  CLI::App* cmd = app.add_subcommand("serve", "Serve explanations over HTTP (KServe V1, TorchServe) and a page to look at them");
  cmd->add_option("--model", a->models, "a model to serve: a .ckpt, or a TorchScript file with its model.json beside it (repeatable)")
      ->required();
  cmd->add_option("--name", a->names, "the name each --model is served as, in order (default: its file's stem)");
  cmd->add_option("--host", o.host(), "the address to bind (0.0.0.0: every interface)")->capture_default_str();
  add_integer(*cmd, "--port", o.port(), 0, 65535, "the TCP port (0: any free one)");
  cmd->add_option("--token-file", a->token_file, "require \"Authorization: Bearer TOKEN\", TOKEN being this file's first line");
  add_integer(*cmd, "--max-batch", o.max_batch(), 1, 1024, "inputs gathered into one batch from concurrent requests");
  add_integer(*cmd, "--max-delay-ms", o.max_delay_ms(), 0, 10000, "how long a batch waits for more requests after its first");
  add_integer(*cmd, "--max-queue", o.max_queue(), 1, 1 << 20, "inputs waiting per model before requests are answered 503");
  add_integer(*cmd, "--max-body-bytes", o.max_body_bytes(), 1024, int64_t(1) << 30, "a request body's cap (413 past it)");
  add_integer(*cmd, "--max-instances", o.max_instances(), 1, 4096, "inputs in one request");
  add_unsigned(*cmd, "--max-image-pixels", o.max_image_pixels(), "a decoded image's pixel cap (0: the readers' own, 89,478,485)");
  add_integer(*cmd, "--request-timeout-ms", o.request_timeout_ms(), 1, 3600000, "a request's deadline (504 past it)");
  add_integer(*cmd, "--read-timeout-ms", o.read_timeout_ms(), 1, 600000, "how long a client may go quiet mid-request or idle");
  add_integer(*cmd, "--max-connections", o.max_connections(), 1, 16384, "connections served at once (one thread each)");
  add_integer(*cmd, "--drain-timeout-ms", o.drain_timeout_ms(), 0, 3600000, "on SIGTERM, how long requests in flight may finish");
  cmd->add_option("--runs", o.runs(), "a run directory (or a folder of them) for the page's run browser");
  cmd->add_option("--samples", o.samples(), "a folder of photographs (PNG, JPEG) the page offers to explain");
  add_device(*cmd, "--device", a->device, "cpu or cuda[:N]: where the models run");
  add_integer(*cmd, "--threads", a->threads, 0, 4096, "intra-op threads (0: one per core)");
  return [a] { run_serve(*a); };
}

}  // namespace glassbox::cli
