#include "glassbox/serve/server.h"

#include <ATen/ATen.h>
#include <httplib.h>
#include <openssl/crypto.h>

#include <sys/resource.h>

#include <atomic>
#include <csignal>
#include <map>
#include <regex>

#include "answers.h"
#include "glassbox/explain/methods.h"
#include "glassbox/util/bounded-json.h"
#include "glassbox/util/error.h"
#include "glassbox/util/file-bytes.h"
#include "instances.h"
#include "model-worker.h"
#include "page-assets.h"
#include "prometheus.h"
#include "question.h"
#include "run-catalogue.h"
#include "sample-folder.h"

namespace glassbox::serve {
namespace {

constexpr const char* kModelName = "([A-Za-z0-9._-]{1,64})";

// One thread per open connection, started as connections come and kept for the next, up to a cap: an
// idle or slow client holds its own thread, never one another client waits for. Past the cap,
// connections wait for a thread.
class ConnectionThreads : public httplib::TaskQueue {
 public:
  explicit ConnectionThreads(size_t max_threads) : max_(max_threads) {}
  ~ConnectionThreads() override { shutdown(); }

  void enqueue(std::function<void()> fn) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      jobs_.push_back(std::move(fn));
      if (idle_ < jobs_.size() && threads_.size() < max_) threads_.emplace_back([this] { work(); });
    }
    cv_.notify_one();
  }

  void shutdown() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (shutdown_) return;
      shutdown_ = true;
    }
    cv_.notify_all();
    for (std::thread& t : threads_) t.join();
  }

 private:
  void work() {
    for (;;) {
      std::function<void()> fn;
      {
        std::unique_lock<std::mutex> lock(mu_);
        ++idle_;
        cv_.wait(lock, [&] { return shutdown_ || !jobs_.empty(); });
        --idle_;
        if (jobs_.empty()) return;
        fn = std::move(jobs_.front());
        jobs_.pop_front();
      }
      fn();
    }
  }

  size_t max_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  std::vector<std::thread> threads_;
  size_t idle_ = 0;
  bool shutdown_ = false;
};

void send_json(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(json_text(body, -1), "application/json");
}

void send_error(httplib::Response& res, int status, const std::string& message) {
  send_json(res, status, {{"error", message}, {"code", status}});
}

bool accepts(const httplib::Request& req, const char* media_type) {
  return req.get_header_value("Accept").find(media_type) != std::string::npos;
}

// TorchServe's routes take the method's options as query parameters: numbers become numbers.
nlohmann::json parameters_from_query(const httplib::Request& req) {
  nlohmann::json p = nlohmann::json::object();
  for (const auto& [key, value] : req.params) {
    if (value == "true" || value == "false") {
      p[key] = value == "true";
      continue;
    }
    char* end = nullptr;
    const long long i = std::strtoll(value.c_str(), &end, 10);
    if (!value.empty() && value.size() < 18 && *end == '\0') {
      p[key] = i;
      continue;
    }
    const double d = std::strtod(value.c_str(), &end);
    if (!value.empty() && *end == '\0') p[key] = d;
    else p[key] = value;
  }
  return p;
}

// A tensor as nested JSON lists, [C][H][W] as TorchServe's explanations are.
nlohmann::json nested_list(const at::Tensor& t) {
  const at::Tensor d = t.detach().to(at::kCPU).to(at::kDouble).contiguous();
  const double* v = d.data_ptr<double>();
  std::function<nlohmann::json(int64_t, int64_t)> level = [&](int64_t dim, int64_t offset) -> nlohmann::json {
    if (dim == d.dim()) return json_number(v[offset]);
    nlohmann::json a = nlohmann::json::array();
    for (int64_t j = 0; j < d.size(dim); ++j) a.push_back(level(dim + 1, offset + j * d.stride(dim)));
    return a;
  };
  return level(0, 0);
}

struct InFlight {
  explicit InFlight(std::atomic<int64_t>& n) : n_(n) { ++n_; }
  ~InFlight() { --n_; }
  std::atomic<int64_t>& n_;
};

}  // namespace

void validate(const ServerOptions& o) {
  GLASSBOX_CHECK_PARAM(!o.host().empty() && o.host().size() <= 255, "host", o.host(), "expected an address to bind");
  GLASSBOX_CHECK_PARAM(o.port() >= 0 && o.port() <= 65535, "port", o.port(), "expected 0..65535 (0: any free port)");
  GLASSBOX_CHECK_PARAM(o.max_batch() >= 1 && o.max_batch() <= 1024, "max_batch", o.max_batch(), "expected 1..1024");
  GLASSBOX_CHECK_PARAM(o.max_delay_ms() >= 0 && o.max_delay_ms() <= 10000, "max_delay_ms", o.max_delay_ms(), "expected 0..10000");
  GLASSBOX_CHECK_PARAM(o.max_queue() >= 1 && o.max_queue() <= 1 << 20, "max_queue", o.max_queue(), "expected 1..1048576");
  GLASSBOX_CHECK_PARAM(o.max_body_bytes() >= 1024 && o.max_body_bytes() <= int64_t(1) << 30, "max_body_bytes",
                       o.max_body_bytes(), "expected 1 KiB..1 GiB");
  GLASSBOX_CHECK_PARAM(o.max_instances() >= 1 && o.max_instances() <= 4096, "max_instances", o.max_instances(), "expected 1..4096");
  GLASSBOX_CHECK_PARAM(o.request_timeout_ms() >= 1 && o.request_timeout_ms() <= 3600000, "request_timeout_ms",
                       o.request_timeout_ms(), "expected 1..3600000");
  GLASSBOX_CHECK_PARAM(o.read_timeout_ms() >= 1 && o.read_timeout_ms() <= 600000, "read_timeout_ms", o.read_timeout_ms(),
                       "expected 1..600000");
  GLASSBOX_CHECK_PARAM(o.max_connections() >= 1 && o.max_connections() <= 16384, "max_connections", o.max_connections(),
                       "expected 1..16384");
  GLASSBOX_CHECK_PARAM(o.drain_timeout_ms() >= 0 && o.drain_timeout_ms() <= 3600000, "drain_timeout_ms",
                       o.drain_timeout_ms(), "expected 0..3600000");
  for (char c : o.token())
    GLASSBOX_CHECK(c > 0x20 && c < 0x7F, "token: holds a character that cannot travel in an Authorization header");
}

struct Server::Impl {
  ServerOptions options;
  httplib::Server http;
  Metrics metrics;
  RunCatalogue runs;
  SampleFolder samples;
  std::map<std::string, std::unique_ptr<ModelWorker>> workers;
  std::vector<std::string> order;  // the models in the order they were added
  std::atomic<bool> draining{false};
  std::atomic<int64_t> in_flight{0};
  std::thread drainer;
  std::mutex drain_mu;
  int port = -1;

  explicit Impl(ServerOptions o) : options(std::move(o)), runs(options.runs()), samples(options.samples()) {}

  ModelWorker* worker(const std::string& name) {
    const auto it = workers.find(name);
    return it == workers.end() ? nullptr : it->second.get();
  }

  bool authorised(const httplib::Request& req) const {
    if (options.token().empty()) return true;
    const std::string expected = "Bearer " + options.token();
    const std::string given = req.get_header_value("Authorization");
    return given.size() == expected.size() && CRYPTO_memcmp(given.data(), expected.data(), given.size()) == 0;
  }

  void routes();
  void answer(const httplib::Request& req, httplib::Response& res, const std::string& model, Task task,
              const nlohmann::json* parameters, at::Tensor x, bool torchserve);
  nlohmann::json answer_json(const ModelWorker& w, const Question& q, const Outcome& o, const at::Tensor& x, bool torchserve);
};

nlohmann::json Server::Impl::answer_json(const ModelWorker& w, const Question& q, const Outcome& o, const at::Tensor& x,
                                         bool torchserve) {
  const models::Model& m = w.model();
  const int64_t n = x.size(0);
  if (torchserve) {
    // TorchServe's image classifier answers {label: probability} of the top five; its explanations are
    // the attributions as nested lists, one per input.
    nlohmann::json out = nlohmann::json::array();
    for (int64_t i = 0; i < n; ++i) {
      if (q.task == Task::predict) {
        nlohmann::json top = nlohmann::json::object();
        const auto [values, classes] = at::topk(o.probabilities[i], q.top_k);
        for (int64_t k = 0; k < q.top_k; ++k) top[m.class_name(classes[k].item<int64_t>())] = values[k].item<double>();
        out.push_back(top);
      } else {
        out.push_back(nested_list(o.attributions[i * int64_t(q.targets.size())]));
      }
    }
    return out;
  }
  nlohmann::json predictions = nlohmann::json::array();
  for (int64_t i = 0; i < n; ++i) predictions.push_back(prediction_json(m, o.probabilities[i], q.top_k));
  nlohmann::json out = {{"model_name", w.name()}, {"predictions", std::move(predictions)}};
  if (q.task == Task::explain) {
    const at::Tensor display = m.to_display(x);
    nlohmann::json explanations = nlohmann::json::array();
    for (int64_t i = 0; i < n; ++i) explanations.push_back(explanation_json(m, q, o, display, i));
    out["explanations"] = std::move(explanations);
  }
  if (q.task == Task::morph) {
    nlohmann::json morphs = nlohmann::json::array();
    for (int64_t i = 0; i < n; ++i) morphs.push_back(morph_json(m, q, o, i));
    out["morphs"] = std::move(morphs);
  }
  out["batch"] = {{"inputs", o.batch_inputs}, {"queued_s", o.queued_seconds}, {"compute_s", o.compute_seconds}};
  return out;
}

void Server::Impl::answer(const httplib::Request& req, httplib::Response& res, const std::string& model, Task task,
                          const nlohmann::json* parameters, at::Tensor x, bool torchserve) {
  const Clock::time_point arrived = Clock::now();
  ModelWorker& w = *worker(model);
  auto work = std::make_shared<Work>();
  work->question = parse_question(task, parameters, w.model());
  work->key = work->question.batch_key();
  work->x = std::move(x);
  work->arrived = arrived;
  work->deadline = arrived + std::chrono::milliseconds(options.request_timeout_ms());
  std::shared_future<Outcome> future;
  try {
    future = w.submit(work).share();
  } catch (const QueueFull& full) {
    res.set_header("Retry-After", "1");
    return send_error(res, 503, "model " + model + ": its queue is full (" + std::to_string(full.depth) +
                                    " inputs waiting, max_queue " + std::to_string(options.max_queue()) + "); retry later");
  }
  const std::string method = task == Task::explain ? work->question.method->name() : task_name(task);
  // Every answer's latency, once, whichever way it goes out.
  const auto record_latency = [this, model, method, arrived] {
    metrics.latency(model, method, std::chrono::duration<double>(Clock::now() - arrived).count());
  };
  const auto finish = [this, work, record_latency, torchserve, &w](const Outcome& o) -> std::pair<int, std::string> {
    record_latency();
    if (o.status != 200) return {o.status, json_text({{"error", o.error}, {"code", o.status}}, -1)};
    return {200, json_text(answer_json(w, work->question, o, work->x, torchserve), -1)};
  };

  if (task != Task::predict && accepts(req, "text/event-stream")) {
    // Server-Sent Events: where the request stands every half second, then its answer.
    struct Stream {
      bool opened = false;
      std::shared_ptr<InFlight> guard;
    };
    auto stream = std::make_shared<Stream>();
    stream->guard = std::make_shared<InFlight>(in_flight);
    res.set_header("Cache-Control", "no-store");
    res.set_chunked_content_provider(
        "text/event-stream",
        [work, future, stream, finish, arrived](size_t, httplib::DataSink& sink) {
          const auto send = [&](const std::string& event, const std::string& data) {
            const std::string text = "event: " + event + "\ndata: " + data + "\n\n";
            return sink.write(text.data(), text.size());
          };
          const double elapsed = std::chrono::duration<double>(Clock::now() - arrived).count();
          if (!stream->opened) {
            stream->opened = true;
            return send("queued", json_text({{"elapsed_s", elapsed}}, -1)) || (work->abandoned = true, false);
          }
          if (future.wait_until(std::min(work->deadline, Clock::now() + std::chrono::milliseconds(500))) ==
              std::future_status::ready) {
            const auto [status, body] = finish(future.get());
            send(status == 200 ? "result" : "error", body);
            sink.done();
            return true;
          }
          if (Clock::now() >= work->deadline) {
            work->abandoned = true;
            send("error", json_text({{"error", "the request's deadline passed"}, {"code", 504}}, -1));
            sink.done();
            return true;
          }
          const char* stage = work->started ? "running" : "queued";
          if (!send("progress", json_text({{"stage", stage}, {"elapsed_s", elapsed}}, -1))) {
            work->abandoned = true;  // the client is gone
            return false;
          }
          return true;
        },
        [work](bool) { work->abandoned = true; });
    return;
  }

  if (future.wait_until(work->deadline) != std::future_status::ready) {
    work->abandoned = true;
    record_latency();
    return send_error(res, 504, "the request's deadline passed (request_timeout_ms " +
                                    std::to_string(options.request_timeout_ms()) + ")");
  }
  const Outcome& o = future.get();
  if (o.status == 200 && task == Task::explain && (accepts(req, "application/x-npy") || accepts(req, "application/octet-stream"))) {
    // The attributions alone, [inputs x classes, ...] in one array: .npy, or raw float32 with its shape in a header.
    record_latency();
    std::string shape;
    for (int64_t d : o.attributions.sizes()) shape += (shape.empty() ? "" : ",") + std::to_string(d);
    res.set_header("X-Attribution-Shape", shape);
    res.set_header("X-Attribution-Dtype", "float32-le");
    if (accepts(req, "application/x-npy")) return res.set_content(npy_bytes(o.attributions), "application/x-npy");
    return res.set_content(float32_bytes(o.attributions), "application/octet-stream");
  }
  const auto [status, body] = finish(o);
  res.status = status;
  res.set_content(body, "application/json");
}

void Server::Impl::routes() {
  const std::string m = kModelName;
  // Every handler answers its own errors as JSON; nothing a request does reaches httplib's own handler.
  const auto guarded = [this](const std::string& route, auto handler) {
    return [this, route, handler](const httplib::Request& req, httplib::Response& res) {
      InFlight guard(in_flight);
      try {
        handler(req, res);
      } catch (const Error& e) {
        send_error(res, 400, printable_excerpt(e.what(), 400));
      } catch (const std::exception& e) {
        send_error(res, 500, "internal error: " + printable_excerpt(e.what(), 200));
      }
      // A streamed answer has no status yet when its handler returns: httplib sends it as 200.
      metrics.request(route, res.status == -1 ? 200 : res.status);
    };
  };
  const auto model_or_404 = [this](const std::string& name, httplib::Response& res) -> ModelWorker* {
    ModelWorker* w = worker(name);
    if (w == nullptr) send_error(res, 404, "model '" + printable_excerpt(name) + "' is not served here");
    return w;
  };

  http.Get("/ping", guarded("/ping", [](const httplib::Request&, httplib::Response& res) {
    send_json(res, 200, {{"status", "Healthy"}});
  }));
  http.Get("/v1/models", guarded("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
    send_json(res, 200, {{"models", order}});
  }));
  http.Get("/v1/models/" + m, guarded("/v1/models/{m}", [this, model_or_404](const httplib::Request& req, httplib::Response& res) {
    if (model_or_404(req.matches[1], res)) send_json(res, 200, {{"name", std::string(req.matches[1])}, {"ready", true}});
  }));
  for (const Task task : {Task::predict, Task::explain, Task::morph}) {
    const std::string verb = task_name(task);
    const std::string route = "/v1/models/{m}:" + verb;
    http.Post("/v1/models/" + m + ":" + verb, guarded(route, [this, task, model_or_404](const httplib::Request& req, httplib::Response& res) {
      ModelWorker* w = model_or_404(req.matches[1], res);
      if (w == nullptr) return;
      const nlohmann::json body = parse_bounded_json(req.body, "body", 64);
      GLASSBOX_CHECK(body.is_object() && body.contains("instances"), "body: ", describe_json(body),
                     ", expected {\"instances\": [...], \"parameters\": {...}}");
      for (auto it = body.begin(); it != body.end(); ++it)
        GLASSBOX_CHECK(it.key() == "instances" || it.key() == "parameters" || it.key() == "id", "body: unknown field '",
                       printable_excerpt(it.key()), "', expected instances and parameters");
      const nlohmann::json* parameters = body.contains("parameters") ? &body["parameters"] : nullptr;
      at::Tensor x = read_instances(body["instances"], w->model(), options);
      answer(req, res, req.matches[1], task, parameters, std::move(x), false);
    }));
  }
  // TorchServe: the image is the body; options in the query string.
  for (const Task task : {Task::predict, Task::explain}) {
    const std::string prefix = task == Task::predict ? "/predictions/" : "/explanations/";
    const std::string route = prefix + "{m}";
    http.Post(prefix + m, guarded(route, [this, task, model_or_404](const httplib::Request& req, httplib::Response& res) {
      ModelWorker* w = model_or_404(req.matches[1], res);
      if (w == nullptr) return;
      const nlohmann::json parameters = parameters_from_query(req);
      at::Tensor x = read_image_body(req.body, w->model(), options);
      answer(req, res, req.matches[1], task, &parameters, std::move(x), true);
    }));
  }
  http.Get("/metrics", guarded("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics.text(), "text/plain; version=0.0.4; charset=utf-8");
  }));

  // The page and what it reads.
  for (const PageAsset* a = kPageAssets; a->path != nullptr; ++a)
    http.Get(a->path, guarded(a->path, [a](const httplib::Request&, httplib::Response& res) {
      res.set_header("Content-Security-Policy",
                     "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; frame-ancestors 'none'");
      res.set_header("X-Content-Type-Options", "nosniff");
      res.set_content(a->body.data(), a->body.size(), a->media_type);
    }));
  http.Get("/api/models", guarded("/api/models", [this](const httplib::Request&, httplib::Response& res) {
    nlohmann::json models = nlohmann::json::array();
    for (const std::string& name : order) {
      const models::Model& model = workers.at(name)->model();
      const models::InputShape s = model.input_shape();
      nlohmann::json classes = nlohmann::json::array();
      for (int64_t c = 0; c < model.num_classes(); ++c) classes.push_back(model.class_name(c));
      models.push_back({{"name", name}, {"input_shape", {s.channels, s.height, s.width}}, {"classes", classes},
                        {"device", model.device().str()}});
    }
    nlohmann::json methods = nlohmann::json::array();
    for (const explain::AttributionMethod* a : explain::attribution_methods())
      methods.push_back({{"name", a->name()}, {"help", a->help()}, {"uses_layer", a->uses_layer()}});
    send_json(res, 200, {{"models", models}, {"methods", methods}, {"runs", runs.enabled()}, {"samples", samples.enabled()},
                         {"token_required", !options.token().empty()}});
  }));
  http.Get("/api/samples", guarded("/api/samples", [this](const httplib::Request&, httplib::Response& res) {
    send_json(res, 200, samples.list());
  }));
  http.Get("/api/sample", guarded("/api/sample", [this](const httplib::Request& req, httplib::Response& res) {
    const auto sample = samples.read(req.get_param_value("name"));
    if (!sample) return send_error(res, 404, "sample '" + printable_excerpt(req.get_param_value("name")) + "' is not listed");
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_content(sample->first, sample->second.c_str());
  }));
  http.Get("/api/runs", guarded("/api/runs", [this](const httplib::Request&, httplib::Response& res) {
    send_json(res, 200, runs.list());
  }));
  http.Get("/api/run", guarded("/api/run", [this](const httplib::Request& req, httplib::Response& res) {
    const std::optional<nlohmann::json> d = runs.describe(req.get_param_value("id"));
    if (!d) return send_error(res, 404, "run '" + printable_excerpt(req.get_param_value("id")) + "' is not listed");
    send_json(res, 200, *d);
  }));
  http.Get("/api/run-file", guarded("/api/run-file", [this](const httplib::Request& req, httplib::Response& res) {
    const std::optional<RunFile> f = runs.file(req.get_param_value("id"), req.get_param_value("name"));
    if (!f) return send_error(res, 404, "file '" + printable_excerpt(req.get_param_value("name")) + "' is not listed in run '" +
                                            printable_excerpt(req.get_param_value("id")) + "'");
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_content(glassbox::read_file(f->path, f->size + 1), f->media_type.c_str());
  }));
}

Server::Server(ServerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {
  validate(impl_->options);
  Impl& s = *impl_;
  const ServerOptions& o = s.options;
  s.http.new_task_queue = [n = size_t(o.max_connections())] { return new ConnectionThreads(n); };
  s.http.set_payload_max_length(size_t(o.max_body_bytes()));
  s.http.set_read_timeout(std::chrono::milliseconds(o.read_timeout_ms()));
  s.http.set_write_timeout(std::chrono::milliseconds(o.read_timeout_ms()));
  s.http.set_keep_alive_timeout(std::max<time_t>(1, o.read_timeout_ms() / 1000));
  s.http.set_keep_alive_max_count(1000);
  s.http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    Impl& s = *impl_;
    if (s.draining) {
      res.set_header("Connection", "close");
      res.set_header("Retry-After", "1");
      send_error(res, 503, "the server is shutting down");
      s.metrics.request("(draining)", 503);
      return httplib::Server::HandlerResponse::Handled;
    }
    const bool open = (req.method == "GET" && (req.path == "/ping" || req.path == "/" || req.path == "/app.js" || req.path == "/style.css"));
    if (!open && !s.authorised(req)) {
      res.set_header("WWW-Authenticate", "Bearer");
      send_error(res, 401, "this server needs \"Authorization: Bearer TOKEN\" (the token file given to glassbox serve)");
      s.metrics.request("(unauthorised)", 401);
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  // What httplib answers itself (no route, a body over the cap, a malformed request line) as JSON too.
  s.http.set_error_handler(httplib::Server::HandlerWithResponse([this](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    std::string message = "no route " + printable_excerpt(req.method, 10) + " " + printable_excerpt(req.path, 80);
    if (res.status == 413) {
      message = "body: larger than max_body_bytes " + std::to_string(impl_->options.max_body_bytes());
      // httplib caps a form-encoded body at 8 KiB before any handler sees it: what curl -d sends by default.
      if (req.get_header_value("Content-Type").find("application/x-www-form-urlencoded") == 0)
        message = "body: sent as a form (Content-Type: application/x-www-form-urlencoded), which is capped at 8 KiB; "
                  "send it with Content-Type: application/json";
    } else if (res.status != 404) {
      message = "the request could not be read (HTTP " + std::to_string(res.status) + ")";
    }
    send_error(res, res.status, message);
    return httplib::Server::HandlerResponse::Handled;
  }));
  s.http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    send_error(res, 500, "internal error");
  });
  s.routes();
  s.metrics.gauge("glassbox_queue_depth", "Inputs waiting in each model's queue.", [this] {
    std::vector<std::pair<std::string, double>> v;
    for (const auto& [name, w] : impl_->workers) v.push_back({"model=\"" + label_value(name) + "\"", double(w->depth())});
    return v;
  });
  s.metrics.gauge("glassbox_requests_in_flight", "Requests being answered.", [this] {
    return std::vector<std::pair<std::string, double>>{{"", double(impl_->in_flight.load())}};
  });
}

Server::~Server() {
  stop();
  if (impl_->drainer.joinable()) impl_->drainer.join();
  impl_->workers.clear();
}

void Server::add_model(const std::string& name, std::shared_ptr<models::Model> model) {
  static const std::regex valid("[A-Za-z0-9._-]{1,64}");
  GLASSBOX_CHECK_PARAM(std::regex_match(name, valid), "name", name, "expected 1 to 64 letters, digits, '.', '-' or '_'");
  GLASSBOX_CHECK_PARAM(impl_->workers.count(name) == 0, "name", name, "already served; give each model its own name");
  GLASSBOX_CHECK_PARAM(model != nullptr, "model", name, "no model given");
  GLASSBOX_CHECK(impl_->port < 0, "add_model: the server is already bound");
  impl_->workers[name] = std::make_unique<ModelWorker>(name, std::move(model), impl_->options, impl_->metrics);
  impl_->order.push_back(name);
}

void Server::bind() {
  Impl& s = *impl_;
  // One descriptor per connection: the soft limit (often 1024) raised toward the hard one, so that
  // max_connections open connections do not make accept() fail for everyone else.
  rlimit files{};
  const rlim_t wanted = rlim_t(s.options.max_connections()) + 256;
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < wanted) {
    files.rlim_cur = std::min(wanted, files.rlim_max);
    setrlimit(RLIMIT_NOFILE, &files);
  }
  const bool ok = s.options.port() == 0 ? (s.port = s.http.bind_to_any_port(s.options.host())) > 0
                                        : s.http.bind_to_port(s.options.host(), s.options.port());
  GLASSBOX_CHECK(ok, "cannot listen on ", printable_excerpt(s.options.host()), ":", s.options.port(),
                 " (in use, or not an address of this machine)");
  if (s.options.port() != 0) s.port = s.options.port();
}

int Server::port() const { return impl_->port; }

void Server::listen() {
  GLASSBOX_CHECK(impl_->port > 0, "listen: bind() first");
  impl_->http.listen_after_bind();
  // Whatever was queued is answered before the workers end.
  for (auto& [name, w] : impl_->workers) w->stop();
}

bool Server::draining() const { return impl_->draining; }

void Server::drain() {
  std::lock_guard<std::mutex> lock(impl_->drain_mu);
  if (impl_->draining.exchange(true)) return;
  impl_->drainer = std::thread([this] {
    Impl& s = *impl_;
    const Clock::time_point until = Clock::now() + std::chrono::milliseconds(s.options.drain_timeout_ms());
    while (s.in_flight.load() > 0 && Clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    s.http.stop();
  });
}

void Server::stop() { impl_->http.stop(); }

namespace {
std::atomic<Server*> g_signalled_server{nullptr};
volatile std::sig_atomic_t g_signal = 0;
extern "C" void on_terminate(int) { g_signal = 1; }
}  // namespace

void drain_on_signals(Server& server) {
  g_signalled_server = &server;
  struct sigaction sa {};
  sa.sa_handler = on_terminate;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  static std::once_flag watcher;
  std::call_once(watcher, [] {
    std::thread([] {
      for (;;) {
        if (g_signal != 0) {
          if (Server* s = g_signalled_server.load()) s->drain();
          return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }).detach();
  });
}

}  // namespace glassbox::serve
