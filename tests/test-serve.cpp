// glassbox serve over real HTTP on loopback: every route in both protocols' shapes (KServe V1's
// {"instances"} -> {"predictions"}, TorchServe's raw body -> {label: probability}), the answers equal to
// the library's own explanation of the same inputs, errors as JSON with their status and the server alive
// after each, the token, the limits, batching, the queue, deadlines, events, the run browser, draining.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <torch/utils.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <regex>
#include <thread>

#include "glassbox/evaluate/faithfulness.h"
#include "glassbox/explain/explanation.h"
#include "glassbox/models/model.h"
#include "glassbox/render/png.h"
#include "glassbox/serve/server.h"
#include "test-support.h"

namespace fs = std::filesystem;
using glassbox::models::Model;
using glassbox::serve::Server;
using glassbox::serve::ServerOptions;
using nlohmann::json;

namespace {

std::shared_ptr<Model> digit_model(const std::string& architecture = "cnn") {
  torch::manual_seed(7);
  glassbox::data::Normalization n;
  n.mean = {0.1307};
  n.std = {0.3081};
  std::vector<std::string> names = {"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"};
  return std::make_shared<Model>(glassbox::models::builtin_model(
      glassbox::models::ModelOptions(architecture, {1, 28, 28}, 10),
      glassbox::models::InputSpec().preprocess(glassbox::data::Preprocess().normalize(n)).class_names(names)));
}

// A 28x28 gray picture, different for each seed.
std::string digit_png(int seed) {
  std::vector<uint8_t> px(28 * 28);
  for (int y = 0; y < 28; ++y)
    for (int x = 0; x < 28; ++x) px[size_t(y * 28 + x)] = uint8_t((x * 7 + y * 13 + seed * 31 + (x * y) % (seed + 3)) % 256);
  return glassbox::render::encode_png(px.data(), 28, 28, 1);
}

std::string b64(const std::string& bytes) {
  static const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t v = uint32_t(uint8_t(bytes[i])) << 16 | uint32_t(uint8_t(bytes[i + 1])) << 8 | uint8_t(bytes[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += a[(v >> s) & 63];
  }
  if (i < bytes.size()) {
    uint32_t v = uint32_t(uint8_t(bytes[i])) << 16;
    if (i + 1 < bytes.size()) v |= uint32_t(uint8_t(bytes[i + 1])) << 8;
    out += a[(v >> 18) & 63];
    out += a[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? a[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

// Decoded here by hand, independently of the server's coder.
std::string unb64(const std::string& text) {
  static const std::string a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string bytes;
  uint32_t buf = 0;
  int bits = 0;
  for (char c : text) {
    if (c == '=') break;
    buf = buf << 6 | uint32_t(a.find(c));
    bits += 6;
    if (bits >= 8) bits -= 8, bytes += char((buf >> bits) & 0xFF);
  }
  return bytes;
}

std::vector<float> floats_of(const std::string& b64text) {
  const std::string bytes = unb64(b64text);
  std::vector<float> out(bytes.size() / 4);
  std::memcpy(out.data(), bytes.data(), out.size() * 4);
  return out;
}

// Float sums in another order (a batch of one against a batch of several): within 1e-4 of the range.
void expect_close(const std::vector<float>& got, const at::Tensor& reference, const std::string& what) {
  const at::Tensor want = reference.contiguous().to(at::kFloat).reshape({-1});
  ASSERT_EQ(int64_t(got.size()), want.numel()) << what;
  const float scale = want.abs().max().item<float>() + 1e-12f;
  for (int64_t k = 0; k < want.numel(); ++k) ASSERT_NEAR(got[size_t(k)], want[k].item<float>(), 1e-4f * scale) << what << " at " << k;
}

// A server on a free loopback port, answering from a thread of its own.
struct Running {
  std::unique_ptr<Server> server;
  std::thread thread;
  explicit Running(ServerOptions options, std::shared_ptr<Model> model = digit_model()) {
    server = std::make_unique<Server>(options.port(0));
    server->add_model("digits", model);
    server->bind();
    thread = std::thread([this] { server->listen(); });
  }
  ~Running() {
    server->stop();
    thread.join();
  }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", server->port());
    c.set_read_timeout(60, 0);
    return c;
  }
};

json body_of(const httplib::Result& r) {
  EXPECT_TRUE(r) << "no answer";
  if (!r) return json();
  return json::parse(r->body);
}

void expect_error(const httplib::Result& r, int status, const std::string& says) {
  ASSERT_TRUE(r) << "no answer";
  EXPECT_EQ(r->status, status) << r->body;
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json") << r->body;
  const json j = json::parse(r->body);
  ASSERT_TRUE(j.contains("error")) << r->body;
  EXPECT_NE(j["error"].get<std::string>().find(says), std::string::npos) << j["error"];
  EXPECT_EQ(std::count(r->body.begin(), r->body.end(), '\n'), 0) << "one line";
}

json instances(const std::vector<std::string>& pngs) {
  json list = json::array();
  for (const auto& p : pngs) list.push_back({{"b64", b64(p)}});
  return list;
}

httplib::Result post_json(httplib::Client& c, const std::string& path, const json& body) {
  return c.Post(path.c_str(), body.dump(), "application/json");
}

// What the library itself says for these images: the reference the server must agree with.
glassbox::explain::Explanation library_explanation(const Model& model, const std::vector<std::string>& pngs,
                                                   const std::string& method, const glassbox::explain::Target& target) {
  std::vector<glassbox::data::DecodedImage> images;
  std::vector<std::string> names;
  for (const auto& p : pngs) images.push_back(glassbox::data::decode_image(p, "png")), names.push_back("png");
  const at::Tensor x = model.prepare(images, names);
  return glassbox::explain::explain_batch(model, x, glassbox::explain::find_attribution_method(method),
                                          glassbox::explain::ExplainOptions().target(target));
}

void expect_alive(const Running& s) {
  auto c = s.client();
  auto r = c.Get("/ping");
  ASSERT_TRUE(r) << "the server stopped answering";
  EXPECT_EQ(r->status, 200);
}

}  // namespace

TEST(Serve, KServeReadinessAndListing) {
  Running s(ServerOptions{});
  auto c = s.client();
  // KServe V1: GET /v1/models/{name} -> {"name": ..., "ready": true}
  const json ready = body_of(c.Get("/v1/models/digits"));
  EXPECT_EQ(ready, json({{"name", "digits"}, {"ready", true}}));
  EXPECT_EQ(body_of(c.Get("/v1/models")), json({{"models", {"digits"}}}));
  expect_error(c.Get("/v1/models/cats"), 404, "model 'cats' is not served here");
  // TorchServe's health check.
  EXPECT_EQ(body_of(c.Get("/ping")), json({{"status", "Healthy"}}));
}

TEST(Serve, PredictAnswersWhatTheModelComputes) {
  auto model = digit_model();
  Running s(ServerOptions{}, model);
  auto c = s.client();
  const std::vector<std::string> pngs = {digit_png(1), digit_png(2)};
  const json answer = body_of(post_json(c, "/v1/models/digits:predict", {{"instances", instances(pngs)}}));
  ASSERT_TRUE(answer.contains("predictions")) << answer.dump();
  ASSERT_EQ(answer["predictions"].size(), 2u);
  const auto e = library_explanation(*model, pngs, "saliency", {});
  for (int i = 0; i < 2; ++i) {
    const json& p = answer["predictions"][size_t(i)];
    ASSERT_EQ(p["probabilities"].size(), 10u);
    double sum = 0;
    for (int k = 0; k < 10; ++k) {
      EXPECT_NEAR(p["probabilities"][size_t(k)].get<double>(), e.probabilities[i][k].item<double>(), 1e-5);
      sum += p["probabilities"][size_t(k)].get<double>();
    }
    EXPECT_NEAR(sum, 1.0, 1e-9);
    const int64_t top = e.probabilities[i].argmax().item<int64_t>();
    EXPECT_EQ(p["class"], top);
    EXPECT_EQ(p["label"], model->class_name(top));
    EXPECT_EQ(p["top"].size(), 5u);
    EXPECT_GE(p["top"][0]["probability"].get<double>(), p["top"][1]["probability"].get<double>());
  }
  // The same input as a tensor (nested lists, the model's normalised input space) predicts the same.
  const at::Tensor x = (at::arange(28 * 28, at::kFloat).reshape({1, 28, 28}) / 784.0 - 0.1307) / 0.3081;
  json nested = json::array();
  for (int ch = 0; ch < 1; ++ch) {
    json plane = json::array();
    for (int y = 0; y < 28; ++y) {
      json row = json::array();
      for (int xx = 0; xx < 28; ++xx) row.push_back(x[ch][y][xx].item<double>());
      plane.push_back(row);
    }
    nested.push_back(plane);
  }
  const json t = body_of(post_json(c, "/v1/models/digits:predict", {{"instances", {nested}}}));
  const at::Tensor probs = at::softmax(model->predict(x.unsqueeze(0)).to(at::kDouble), 1);
  for (int k = 0; k < 10; ++k) EXPECT_NEAR(t["predictions"][0]["probabilities"][size_t(k)].get<double>(), probs[0][k].item<double>(), 1e-5);
}

TEST(Serve, ExplainEqualsTheLibraryForEachMethodAndTarget) {
  auto model = digit_model();
  Running s(ServerOptions{}, model);
  auto c = s.client();
  const std::vector<std::string> pngs = {digit_png(3)};
  for (const std::string method : {"saliency", "ig", "gradcam"}) {
    const json answer = body_of(post_json(c, "/v1/models/digits:explain",
                                          {{"instances", instances(pngs)}, {"parameters", {{"method", method}, {"target", 4}}}}));
    ASSERT_TRUE(answer.contains("explanations")) << answer.dump().substr(0, 300);
    const json& e = answer["explanations"][0];
    EXPECT_EQ(e["method"], method);
    ASSERT_EQ(e["targets"].size(), 1u);
    const json& t = e["targets"][0];
    EXPECT_EQ(t["class"], 4);
    EXPECT_EQ(t["label"], "four");
    const auto ref = library_explanation(*model, pngs, method, glassbox::explain::parse_target("4"));
    const at::Tensor want = ref.attributions[0];
    std::vector<int64_t> shape = t["attribution"]["shape"];
    EXPECT_EQ(shape, std::vector<int64_t>(want.sizes().begin(), want.sizes().end()));
    expect_close(floats_of(t["attribution"]["b64"]), want, method);
    // The overlay is a PNG at the input's resolution, in colour.
    const auto overlay = glassbox::data::decode_png(unb64(t["overlay_png"]), "overlay");
    EXPECT_EQ(overlay.width, 28);
    EXPECT_EQ(overlay.height, 28);
    EXPECT_EQ(overlay.channels, 3);
  }
}

TEST(Serve, IntegratedGradientsOfALinearModelAreInputTimesWeight) {
  // logreg: logits = W x + b, so IG from a zero baseline is exactly x * W[target] (completeness holds
  // with equality) and saliency is |W[target]|: truth that does not come from the code under test.
  auto model = digit_model("logreg");
  Running s(ServerOptions{}, model);
  auto c = s.client();
  const std::string png = digit_png(5);
  at::Tensor W;
  for (const auto& [name, p] : model->network().named_parameters())
    if (p.dim() == 2) W = p.detach().to(at::kFloat);
  ASSERT_TRUE(W.defined());
  const at::Tensor x = model->prepare({glassbox::data::decode_image(png, "png")}, {"png"})[0].reshape({-1});
  for (const std::string method : {"ig", "saliency"}) {
    const json answer = body_of(post_json(c, "/v1/models/digits:explain",
                                          {{"instances", instances({png})}, {"parameters", {{"method", method}, {"target", 6}, {"n_steps", 8}}}}));
    const std::vector<float> got = floats_of(answer["explanations"][0]["targets"][0]["attribution"]["b64"]);
    const at::Tensor want = method == "ig" ? x * W[6] : W[6].abs();
    ASSERT_EQ(int64_t(got.size()), want.numel());
    for (int64_t k = 0; k < want.numel(); ++k) ASSERT_NEAR(got[size_t(k)], want[k].item<float>(), 1e-4) << method << " " << k;
  }
}

TEST(Serve, TwoTargetsOfOneInputAreTheTopClassAndTheRunnerUp) {
  auto model = digit_model();
  Running s(ServerOptions{}, model);
  auto c = s.client();
  const std::string png = digit_png(8);
  const json answer = body_of(post_json(c, "/v1/models/digits:explain",
                                        {{"instances", instances({png})}, {"parameters", {{"method", "saliency"}, {"target", "top2"}}}}));
  const auto ref = library_explanation(*model, {png}, "saliency", {});
  const json& targets = answer["explanations"][0]["targets"];
  ASSERT_EQ(targets.size(), 2u);
  EXPECT_EQ(targets[0]["class"], ref.ranked[0][0].item<int64_t>());
  EXPECT_EQ(targets[1]["class"], ref.ranked[0][1].item<int64_t>());
  EXPECT_GE(targets[0]["probability"].get<double>(), targets[1]["probability"].get<double>());
}

TEST(Serve, ConcurrentRequestsAreBatchedAndAnsweredAsAlone) {
  auto model = digit_model();
  // A long gathering window: eight requests sent together must land in fewer batches than requests.
  Running s(ServerOptions().max_batch(8).max_delay_ms(300), model);
  std::vector<std::future<json>> answers;
  for (int i = 0; i < 8; ++i)
    answers.push_back(std::async(std::launch::async, [&s, i] {
      auto c = s.client();
      return body_of(post_json(c, "/v1/models/digits:explain",
                               {{"instances", instances({digit_png(20 + i)})}, {"parameters", {{"method", "gradcam"}, {"target", i}}}}));
    }));
  int64_t largest = 0;
  for (int i = 0; i < 8; ++i) {
    const json a = answers[size_t(i)].get();
    ASSERT_TRUE(a.contains("explanations")) << a.dump().substr(0, 300);
    largest = std::max<int64_t>(largest, a["batch"]["inputs"].get<int64_t>());
    // Each answer is its own input's, for its own class, as the library computes it alone.
    const auto ref = library_explanation(*model, {digit_png(20 + i)}, "gradcam", glassbox::explain::parse_target(std::to_string(i)));
    expect_close(floats_of(a["explanations"][0]["targets"][0]["attribution"]["b64"]), ref.attributions[0], std::to_string(i));
    EXPECT_EQ(a["explanations"][0]["targets"][0]["class"], i);
  }
  EXPECT_GT(largest, 1) << "no two requests were batched together";
  auto c = s.client();
  const std::string metrics = c.Get("/metrics")->body;
  EXPECT_NE(metrics.find("glassbox_explanations_total{model=\"digits\",method=\"gradcam\"} 8"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("glassbox_batch_size_count{model=\"digits\"}"), std::string::npos);
}

TEST(Serve, BatchReadingMethodsAreNeverBatchedWithAnotherRequest) {
  auto model = digit_model();
  Running s(ServerOptions().max_batch(8).max_delay_ms(300), model);
  // Feature permutation exchanges features between the samples of its batch: four requests of two
  // digits each, sent together, are each answered from their own two alone.
  std::vector<std::future<json>> answers;
  for (int i = 0; i < 4; ++i)
    answers.push_back(std::async(std::launch::async, [&s, i] {
      auto c = s.client();
      return body_of(post_json(c, "/v1/models/digits:explain",
                               {{"instances", instances({digit_png(30 + 2 * i), digit_png(31 + 2 * i)})},
                                {"parameters", {{"method", "feature_permutation"}, {"target", 1}, {"feature_size", 7}}}}));
    }));
  for (auto& f : answers) {
    const json a = f.get();
    ASSERT_TRUE(a.contains("explanations")) << a.dump().substr(0, 300);
    EXPECT_EQ(a["batch"]["inputs"], 2);
  }
  auto c = s.client();
  expect_error(post_json(c, "/v1/models/digits:explain",
                         {{"instances", instances({digit_png(3)})}, {"parameters", {{"method", "feature_permutation"}}}}),
               400, "at least 2");
  // LIME over superpixels, and a feature mask that does not exist.
  const json lime = body_of(post_json(c, "/v1/models/digits:explain",
                                      {{"instances", instances({digit_png(3)})},
                                       {"parameters", {{"method", "lime"}, {"target", 3}, {"feature_mask", "superpixels"},
                                                       {"n_segments", 12}, {"n_samples", 40}}}}));
  ASSERT_TRUE(lime.contains("explanations")) << lime.dump().substr(0, 300);
  expect_error(post_json(c, "/v1/models/digits:explain",
                         {{"instances", instances({digit_png(3)})}, {"parameters", {{"method", "lime"}, {"feature_mask", "voronoi"}}}}),
               400, "feature_mask");
  expect_alive(s);
}

TEST(Serve, MalformedRequestsAre4xxJsonAndTheServerLives) {
  Running s(ServerOptions().max_body_bytes(1 << 20));
  auto c = s.client();
  expect_error(c.Post("/v1/models/digits:predict", "{not json", "application/json"), 400, "body");
  expect_error(post_json(c, "/v1/models/digits:predict", {{"inputs", 1}}), 400, "expected {\"instances\"");
  expect_error(post_json(c, "/v1/models/digits:predict", {{"instances", {"@@@not base64"}}}), 400, "instances[0]");
  expect_error(post_json(c, "/v1/models/digits:predict", {{"instances", {{{"b64", b64("not an image at all")}}}}}), 400,
               "instances[0]");
  // A truncated JPEG, a truncated PNG.
  const std::string jpeg = glassbox::testing::read_all("/usr/lib/python3/dist-packages/skimage/data/rocket.jpg");
  ASSERT_GT(jpeg.size(), 1000u);
  expect_error(post_json(c, "/v1/models/digits:predict", {{"instances", instances({jpeg.substr(0, jpeg.size() / 2)})}}), 400, "instances[0]");
  const std::string png = digit_png(1);
  expect_error(post_json(c, "/v1/models/digits:predict", {{"instances", instances({png.substr(0, png.size() - 20)})}}), 400,
               "instances[0]");
  // A PNG header declaring 10,000 x 10,000 pixels: refused before anything is allocated.
  std::string bomb = png;
  const uint32_t side = 10000;
  for (int k = 0; k < 4; ++k) bomb[size_t(16 + k)] = char(side >> (24 - 8 * k)), bomb[size_t(20 + k)] = char(side >> (24 - 8 * k));
  expect_error(post_json(c, "/v1/models/digits:predict", {{"instances", instances({bomb})}}), 400, "instances[0]");
  // A tensor of the wrong shape; a value that is not a number.
  expect_error(post_json(c, "/v1/models/digits:predict", {{"instances", {{{1, 2}, {3, 4}}}}}), 400, "expected 1 entries");
  // Parameters: unknown, mistyped, out of range.
  const json one = instances({png});
  expect_error(post_json(c, "/v1/models/digits:explain", {{"instances", one}, {"parameters", {{"n_stepz", 3}}}}), 400, "'n_stepz'");
  expect_error(post_json(c, "/v1/models/digits:explain", {{"instances", one}, {"parameters", {{"n_steps", 0}}}}), 400, "'n_steps'");
  expect_error(post_json(c, "/v1/models/digits:explain", {{"instances", one}, {"parameters", {{"target", 10}}}}), 400, "'target'");
  expect_error(post_json(c, "/v1/models/digits:explain", {{"instances", one}, {"parameters", {{"method", "magic"}}}}), 400,
               "expected one of");
  expect_error(post_json(c, "/v1/models/digits:explain", {{"instances", one}, {"parameters", {{"method", "saliency"}, {"layer", "conv1"}}}}),
               400, "works on the input");
  expect_error(post_json(c, "/v1/models/digits:explain", {{"instances", one}, {"parameters", {{"method", "gradcam"}, {"layer", "nope"}}}}),
               400, "nope");
  // Too many instances; a body over the cap (413); an unknown route.
  json many = json::array();
  for (int i = 0; i < 65; ++i) many.push_back(json::array());
  expect_error(post_json(c, "/v1/models/digits:predict", {{"instances", many}}), 400, "at most 64");
  expect_error(c.Post("/v1/models/digits:predict", std::string(2 << 20, 'x'), "application/json"), 413, "max_body_bytes");
  expect_error(c.Get("/v1/nothing/here"), 404, "no route");
  // JSON sent as a form (curl -d without a Content-Type) is told what to send instead.
  expect_error(c.Post("/v1/models/digits:predict", std::string(20000, 'x'), "application/x-www-form-urlencoded"), 413,
               "Content-Type: application/json");
  // Deeply nested JSON is refused, not recursed into.
  expect_error(c.Post("/v1/models/digits:predict", std::string(100000, '[') + std::string(100000, ']'), "application/json"), 400, "body");
  expect_alive(s);
}

TEST(Serve, TheTokenIsRequiredWhenGiven) {
  Running s(ServerOptions().token("0123456789abcdef0123"));
  auto c = s.client();
  expect_error(c.Get("/v1/models/digits"), 401, "Bearer");
  httplib::Headers wrong = {{"Authorization", "Bearer 0123456789abcdef0124"}};
  expect_error(c.Get("/v1/models/digits", wrong), 401, "Bearer");
  httplib::Headers right = {{"Authorization", "Bearer 0123456789abcdef0123"}};
  EXPECT_EQ(c.Get("/v1/models/digits", right)->status, 200);
  EXPECT_EQ(c.Get("/metrics", right)->status, 200);
  expect_error(c.Get("/metrics"), 401, "Bearer");
  // Liveness and the page's own files need none: they tell nothing about the models.
  EXPECT_EQ(c.Get("/ping")->status, 200);
  EXPECT_EQ(c.Get("/")->status, 200);
  expect_error(c.Get("/api/models"), 401, "Bearer");
}

TEST(Serve, AFullQueueIsAnswered503WithRetryAfter) {
  // The first request waits in its gathering window; the queue holds one input, so the second is refused.
  Running s(ServerOptions().max_queue(1).max_batch(4).max_delay_ms(1000));
  auto first = std::async(std::launch::async, [&s] {
    auto c = s.client();
    return c.Post("/v1/models/digits:predict", json({{"instances", instances({digit_png(1)})}}).dump(), "application/json")->status;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto c = s.client();
  auto r = post_json(c, "/v1/models/digits:explain", {{"instances", instances({digit_png(2)})}});
  expect_error(r, 503, "queue is full");
  EXPECT_EQ(r->get_header_value("Retry-After"), "1");
  EXPECT_EQ(first.get(), 200);
  expect_alive(s);
}

TEST(Serve, ARequestPastItsDeadlineIs504AndItsWorkDropped) {
  Running s(ServerOptions().max_batch(4).max_delay_ms(500).request_timeout_ms(100));
  auto c = s.client();
  expect_error(post_json(c, "/v1/models/digits:predict", {{"instances", instances({digit_png(1)})}}), 504, "deadline");
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  expect_alive(s);
}

TEST(Serve, SlowMethodsCanBeFollowedAsServerSentEvents) {
  Running s(ServerOptions{});
  auto c = s.client();
  httplib::Headers h = {{"Accept", "text/event-stream"}};
  auto r = c.Post("/v1/models/digits:explain", h, json({{"instances", instances({digit_png(4)})}, {"parameters", {{"method", "ig"}, {"n_steps", 64}}}}).dump(),
                  "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/event-stream");
  // Events in order: queued first, result last, its data the whole JSON answer.
  std::vector<std::string> events;
  std::string result;
  std::regex event_re("event: ([a-z]+)\ndata: ([^\n]*)\n\n");
  for (std::sregex_iterator it(r->body.begin(), r->body.end(), event_re), end; it != end; ++it) {
    events.push_back((*it)[1]);
    if ((*it)[1] == "result") result = (*it)[2];
  }
  ASSERT_GE(events.size(), 2u) << r->body.substr(0, 300);
  EXPECT_EQ(events.front(), "queued");
  EXPECT_EQ(events.back(), "result");
  const json a = json::parse(result);
  EXPECT_EQ(a["explanations"][0]["method"], "ig");
  // Counted once, under its route.
  const std::string metrics = c.Get("/metrics")->body;
  EXPECT_NE(metrics.find("glassbox_requests_total{route=\"/v1/models/{m}:explain\",code=\"200\"} 1\n"), std::string::npos) << metrics;
}

TEST(Serve, AttributionsAsNpyAndRawFloat32) {
  auto model = digit_model();
  Running s(ServerOptions{}, model);
  auto c = s.client();
  const std::string body = json({{"instances", instances({digit_png(1), digit_png(2)})}, {"parameters", {{"method", "saliency"}}}}).dump();
  auto npy = c.Post("/v1/models/digits:explain", {{"Accept", "application/x-npy"}}, body, "application/json");
  ASSERT_TRUE(npy);
  ASSERT_EQ(npy->status, 200);
  EXPECT_EQ(npy->get_header_value("Content-Type"), "application/x-npy");
  // NumPy's format 1.0: magic, version, a little-endian header length, a dict naming dtype and shape.
  ASSERT_EQ(npy->body.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  const size_t header = uint8_t(npy->body[8]) | uint8_t(npy->body[9]) << 8;
  EXPECT_EQ((10 + header) % 64, 0u);
  const std::string dict = npy->body.substr(10, header);
  EXPECT_NE(dict.find("'descr': '<f4'"), std::string::npos) << dict;
  EXPECT_NE(dict.find("'shape': (2, 1, 28, 28)"), std::string::npos) << dict;
  EXPECT_EQ(npy->body.size(), 10 + header + 2 * 28 * 28 * 4);
  auto raw = c.Post("/v1/models/digits:explain", {{"Accept", "application/octet-stream"}}, body, "application/json");
  ASSERT_TRUE(raw);
  EXPECT_EQ(raw->get_header_value("X-Attribution-Shape"), "2,1,28,28");
  EXPECT_EQ(raw->body, npy->body.substr(10 + header));
}

TEST(Serve, TorchServeRoutes) {
  auto model = digit_model();
  Running s(ServerOptions{}, model);
  auto c = s.client();
  const std::string png = digit_png(6);
  // POST /predictions/{m} with the image as the body: {label: probability} of the five most likely.
  const json p = body_of(c.Post("/predictions/digits", png, "image/png"));
  ASSERT_TRUE(p.is_array() && p.size() == 1) << p.dump();
  ASSERT_TRUE(p[0].is_object());
  EXPECT_EQ(p[0].size(), 5u);
  const auto ref = library_explanation(*model, {png}, "saliency", {});
  const int64_t top = ref.probabilities[0].argmax().item<int64_t>();
  EXPECT_NEAR(p[0][model->class_name(top)].get<double>(), ref.probabilities[0][top].item<double>(), 1e-5);
  // POST /explanations/{m}: the attribution as nested lists [C][H][W]; options in the query string.
  const json e = body_of(c.Post("/explanations/digits?method=saliency&target=3", png, "image/png"));
  ASSERT_TRUE(e.is_array() && e.size() == 1);
  ASSERT_EQ(e[0].size(), 1u);
  ASSERT_EQ(e[0][0].size(), 28u);
  ASSERT_EQ(e[0][0][0].size(), 28u);
  const auto ref3 = library_explanation(*model, {png}, "saliency", glassbox::explain::parse_target("3"));
  EXPECT_NEAR(e[0][0][14][14].get<double>(), ref3.attributions[0][0][14][14].item<double>(), 1e-6);
  expect_error(c.Post("/explanations/digits?method=saliency&target=3", "", "image/png"), 400, "body");
  expect_error(c.Post("/predictions/digits", "GIF89a...", "image/gif"), 400, "body");
}

TEST(Serve, MorphTowardAClass) {
  Running s(ServerOptions{});
  auto c = s.client();
  const json a = body_of(post_json(c, "/v1/models/digits:morph",
                                   {{"instances", instances({digit_png(2)})}, {"parameters", {{"target", 3}, {"steps", 5}}}}));
  ASSERT_TRUE(a.contains("morphs")) << a.dump().substr(0, 300);
  const json& m = a["morphs"][0];
  EXPECT_EQ(m["target"], 3);
  EXPECT_LE(m["steps"].get<int>(), 5);
  EXPECT_EQ(unb64(m["gif"]).substr(0, 6), "GIF89a");
  // The probability of the target does not fall as the input is pushed toward it.
  EXPECT_GE(m["probability"].back().get<double>(), m["probability"].front().get<double>());
  expect_error(post_json(c, "/v1/models/digits:morph", {{"instances", instances({digit_png(2)})}}), 400, "'target'");
}

TEST(Serve, MetricsInPrometheusTextFormat) {
  Running s(ServerOptions{});
  auto c = s.client();
  post_json(c, "/v1/models/digits:predict", {{"instances", instances({digit_png(1)})}});
  post_json(c, "/v1/models/digits:explain", {{"instances", instances({digit_png(1)})}, {"parameters", {{"method", "saliency"}}}});
  json with_metrics = {{"instances", instances({digit_png(1)})}};
  with_metrics["parameters"]["metrics"] = {"deletion"};
  post_json(c, "/v1/models/digits:explain", with_metrics);
  c.Get("/v1/models/cats");
  auto r = c.Get("/metrics");
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  const std::string& m = r->body;
  // Every sample line: a metric name, optional labels, a number.
  std::istringstream lines(m);
  std::string line;
  const std::regex sample(R"(^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="[^"]*"(,[a-zA-Z_][a-zA-Z0-9_]*="[^"]*")*\})? -?[0-9.e+-]+(Inf)?$)");
  while (std::getline(lines, line))
    if (!line.empty() && line[0] != '#') EXPECT_TRUE(std::regex_match(line, sample)) << line;
  EXPECT_NE(m.find("glassbox_requests_total{route=\"/v1/models/{m}:predict\",code=\"200\"} 1"), std::string::npos) << m;
  EXPECT_NE(m.find("glassbox_requests_total{route=\"/v1/models/{m}\",code=\"404\"} 1"), std::string::npos) << m;
  EXPECT_NE(m.find("glassbox_request_duration_seconds_bucket{model=\"digits\",method=\"saliency\",le=\"+Inf\"} 2"), std::string::npos) << m;
  EXPECT_NE(m.find("glassbox_request_duration_seconds_count{model=\"digits\",method=\"predict\"} 1"), std::string::npos) << m;
  EXPECT_NE(m.find("# TYPE glassbox_queue_depth gauge"), std::string::npos);
  EXPECT_NE(m.find("glassbox_queue_depth{model=\"digits\"} 0"), std::string::npos);
}

TEST(Serve, ExplanationMetricsAskedForAreTheLibrarys) {
  auto model = digit_model();
  Running s(ServerOptions{}, model);
  auto c = s.client();
  const std::string png = digit_png(9);
  const json a = body_of(post_json(c, "/v1/models/digits:explain",
                                   {{"instances", instances({png})},
                                    {"parameters", {{"method", "saliency"}, {"metrics", {"deletion", "insertion"}}, {"metric_steps", 10}}}}));
  const json& m = a["explanations"][0]["targets"][0]["metrics"];
  ASSERT_TRUE(m.contains("deletion") && m.contains("insertion")) << a.dump().substr(0, 300);
  const auto ref = library_explanation(*model, {png}, "saliency", {});
  const at::Tensor x = model->prepare({glassbox::data::decode_image(png, "png")}, {"png"});
  const auto del = glassbox::evaluate::deletion(model->network(), x, ref.targets, ref.attributions,
                                                glassbox::evaluate::PixelFlippingOptions().steps(10));
  EXPECT_NEAR(m["deletion"].get<double>(), del.area[0].item<double>(), 1e-5);
}

TEST(Serve, RunBrowserListsRunsAndNeverLeavesThem) {
  const std::string root = glassbox::testing::scratch_dir("serve-runs");
  fs::create_directories(root + "/mnist/confused");
  std::ofstream(root + "/mnist/summary.json") << R"({"val_acc": 0.97, "epochs": 2})";
  std::ofstream(root + "/mnist/metrics.csv") << "step,name,value\n0,val_acc,0.5\n1,val_acc,0.9\n1,train_loss,0.3\n";
  std::ofstream(root + "/mnist/confused/index.json") << R"({"ranked": [], "pair_counts": [[0, 1], [2, 0]]})";
  std::ofstream(root + "/mnist/confused/pairs.png") << digit_png(1);
  std::ofstream(root + "/mnist/notes.txt") << "not a picture";
  fs::create_symlink("/etc/passwd", root + "/mnist/passwd.png");
  fs::create_directories(root + "/empty");
  Running s(ServerOptions().runs(root));
  auto c = s.client();
  const json list = body_of(c.Get("/api/runs"));
  ASSERT_EQ(list["runs"].size(), 1u) << list.dump();
  EXPECT_EQ(list["runs"][0]["id"], "mnist");
  EXPECT_EQ(list["runs"][0]["summary"]["val_acc"], 0.97);
  const json d = body_of(c.Get("/api/run?id=mnist"));
  EXPECT_EQ(d["curves"]["val_acc"]["value"], json({0.5, 0.9}));
  EXPECT_EQ(d["curves"]["val_acc"]["step"], json({0.0, 1.0}));
  EXPECT_EQ(d["confused"]["pair_counts"][1][0], 2);
  EXPECT_EQ(d["pictures"], json({"confused/pairs.png"})) << "the symlink and the text file are not listed";
  auto f = c.Get("/api/run-file?id=mnist&name=confused%2Fpairs.png");
  ASSERT_EQ(f->status, 200);
  EXPECT_EQ(f->get_header_value("Content-Type"), "image/png");
  EXPECT_EQ(f->body, digit_png(1));
  // Paths are never joined: anything not in the listing is 404.
  for (const std::string name : {"passwd.png", "notes.txt", "..%2F..%2F..%2Fetc%2Fpasswd", "%2Fetc%2Fpasswd", "confused%2F..%2Fsummary.json"})
    expect_error(c.Get(("/api/run-file?id=mnist&name=" + name).c_str()), 404, "not listed");
  expect_error(c.Get("/api/run?id=..%2F.."), 404, "not listed");
  expect_error(c.Get("/api/run?id=%2Fetc"), 404, "not listed");
}

TEST(Serve, DrainFinishesWhatIsInFlightAndRefusesTheRest) {
  auto s = std::make_unique<Running>(ServerOptions().max_batch(8).max_delay_ms(400));
  auto in_flight = std::async(std::launch::async, [&s] {
    auto c = s->client();
    auto r = c.Post("/v1/models/digits:predict", json({{"instances", instances({digit_png(1)})}}).dump(), "application/json");
    return r ? r->status : -1;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  s->server->drain();
  EXPECT_TRUE(s->server->draining());
  auto c = s->client();
  auto late = c.Get("/ping");
  if (late) EXPECT_EQ(late->status, 503);  // or refused outright once the listener has closed
  EXPECT_EQ(in_flight.get(), 200) << "the request in flight lost its answer";
  s->thread.join();  // listen() returned by itself
  s->thread = std::thread([] {});
}

TEST(Serve, SamplesAreTheFolderListingOnly) {
  const std::string dir = glassbox::testing::scratch_dir("serve-samples");
  std::ofstream(dir + "/b.png") << digit_png(2);
  std::ofstream(dir + "/a.JPG") << "jpeg bytes";
  std::ofstream(dir + "/notes.txt") << "text";
  fs::create_symlink("/etc/passwd", dir + "/passwd.png");
  fs::create_directories(dir + "/sub");
  std::ofstream(dir + "/sub/c.png") << digit_png(3);
  Running s(ServerOptions().samples(dir));
  auto c = s.client();
  EXPECT_EQ(body_of(c.Get("/api/samples")), json({{"samples", {"a.JPG", "b.png"}}}));
  auto r = c.Get("/api/sample?name=b.png");
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "image/png");
  EXPECT_EQ(r->body, digit_png(2));
  for (const std::string name : {"passwd.png", "notes.txt", "sub%2Fc.png", "..%2Fserve-samples%2Fb.png", "%2Fetc%2Fpasswd"})
    expect_error(c.Get(("/api/sample?name=" + name).c_str()), 404, "not listed");
  EXPECT_EQ(body_of(c.Get("/api/models"))["samples"], true);
}
