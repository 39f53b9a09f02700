// glassbox's HTTP server: explanations of deployed models for programs (KServe V1 and TorchServe
// routes, Prometheus metrics) and a page for people, from one object a program embeds:
//
//   glassbox::serve::Server server(glassbox::serve::ServerOptions().port(8080).token(secret));
//   server.add_model("faces", std::make_shared<glassbox::models::Model>(glassbox::models::load_model("faces.pt")));
//   server.bind();
//   glassbox::serve::drain_on_signals(server);  // SIGTERM: finish what is in flight, then return
//   server.listen();
//
// Routes (README: "Serving explanations"):
//   GET  /v1/models/{m}             KServe V1 readiness           GET  /ping            TorchServe liveness
//   POST /v1/models/{m}:predict     {"instances": [...]}          POST /predictions/{m}  raw image body
//   POST /v1/models/{m}:explain     {"instances", "parameters"}   POST /explanations/{m} raw image body
//   POST /v1/models/{m}:morph       toward a class (glassbox's)   GET  /metrics         Prometheus text
//   GET  /                          the page                      GET  /api/...         the page's data
#pragma once

#include <memory>
#include <string>

#include "glassbox/models/model.h"
#include "glassbox/serve/server-options.h"

namespace glassbox::serve {

class Server {
 public:
  // Throws glassbox::Error::about the first option out of range.
  explicit Server(ServerOptions options = {});
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Serves `model` as `name` (1 to 64 letters, digits, '.', '-' or '_'; unique), with a worker thread of
  // its own, on the model's device. Before bind().
  void add_model(const std::string& name, std::shared_ptr<models::Model> model);

  // Binds the address; throws glassbox::Error naming host and port when it cannot.
  void bind();
  // The port bound (the one picked when the options asked for 0).
  int port() const;
  // Answers requests until stop() or a finished drain(). Blocks.
  void listen();

  // Begins draining: new requests are answered 503, those in flight finish (within drain_timeout_ms),
  // then listen() returns. Safe from any thread; returns at once.
  void drain();
  // Stops at once: requests in flight are cut.
  void stop();
  bool draining() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Makes SIGTERM and SIGINT drain `server` (the handler only sets a flag; a thread does the rest).
void drain_on_signals(Server& server);

}  // namespace glassbox::serve
