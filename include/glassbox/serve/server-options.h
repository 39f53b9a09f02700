// How `glassbox serve` listens, batches and bounds its work. Every limit is on by default: a server a
// team starts beside its model without reading this file binds to loopback, caps bodies, pixels,
// queues, connections and time.
#pragma once

#include <cstdint>
#include <string>

#include "glassbox/util/arg.h"

namespace glassbox::serve {

struct ServerOptions {
  // The address to bind; loopback unless a deployment says otherwise ("0.0.0.0" for all interfaces).
  GLASSBOX_ARG(std::string, host) = "127.0.0.1";
  // The TCP port; 0 picks a free one (Server::port() says which).
  GLASSBOX_ARG(int, port) = 8080;
  // When not empty, every request but GET /ping and the page's own files must carry
  // "Authorization: Bearer TOKEN" (401 otherwise).
  GLASSBOX_ARG(std::string, token);
  // Concurrent requests that ask one model the same question (method and options) are gathered into
  // one batch of up to max_batch inputs ...
  GLASSBOX_ARG(int64_t, max_batch) = 16;
  // ... waiting at most this long after the first for the others to arrive.
  GLASSBOX_ARG(int64_t, max_delay_ms) = 5;
  // Inputs waiting per model; a request that would go past it is answered 503 with Retry-After.
  GLASSBOX_ARG(int64_t, max_queue) = 256;
  // A request's body, in bytes (413 past it).
  GLASSBOX_ARG(int64_t, max_body_bytes) = 32 << 20;
  // Instances in one request.
  GLASSBOX_ARG(int64_t, max_instances) = 64;
  // Pixels of one decoded image (0: the readers' own cap, data::max_image_pixels()).
  GLASSBOX_ARG(uint64_t, max_image_pixels) = 0;
  // A request's deadline from its arrival to its answer (504 past it; the work is dropped if not begun).
  GLASSBOX_ARG(int64_t, request_timeout_ms) = 60000;
  // How long a client may take to send a request's bytes, and a keep-alive connection may sit idle.
  GLASSBOX_ARG(int64_t, read_timeout_ms) = 5000;
  // Connections served at once (one thread each while open); more wait for one to close.
  GLASSBOX_ARG(int64_t, max_connections) = 1024;
  // How long SIGTERM's drain waits for the requests in flight before the server stops anyway.
  GLASSBOX_ARG(int64_t, drain_timeout_ms) = 60000;
  // A run directory (glassbox train's --out, or a folder of them) the page's run browser lists; empty:
  // no run browser. Requests name runs and files by what the listing says, never by a path.
  GLASSBOX_ARG(std::string, runs);
  // A folder of photographs (PNG, JPEG) the page offers as samples to explain; empty: none.
  GLASSBOX_ARG(std::string, samples);
};

// Throws glassbox::Error::about the first option out of range ("max_batch", "port", ...).
void validate(const ServerOptions& options);

}  // namespace glassbox::serve
