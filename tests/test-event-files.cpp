// Event files against independent truth: the golden file written by the real Python writer (with the
// values TensorBoard's own reader saw in it), and protoc decoding our files with a schema of its own.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <png.h>

#include <filesystem>
#include <fstream>

#include "glassbox/tensorboard/event-reader.h"
#include "glassbox/tensorboard/summary-writer.h"
#include "glassbox/util/error.h"
#include "test-support.h"

using namespace glassbox::tensorboard;
namespace fs = std::filesystem;

namespace {

const std::string kGolden = std::string(GLASSBOX_SOURCE_DIR) + "/../shared/fixtures/tensorboard/events.out.tfevents.1795713552.golden";

std::vector<Event> read_golden() {
  if (!fs::exists(kGolden)) return {};
  EventReader reader(kGolden);
  std::vector<Event> events = reader.read_all();
  EXPECT_FALSE(reader.problem().has_value()) << reader.problem()->reason;
  return events;
}

const Value& only_value(const Event& e) {
  EXPECT_EQ(e.values.size(), 1u);
  return e.values.at(0);
}

std::string only_event_file(const std::string& dir) {
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().find("tfevents") != std::string::npos) files.push_back(e.path().string());
  EXPECT_EQ(files.size(), 1u);
  return files.at(0);
}

// The golden file's values, written by our writer in the same order.
std::string write_golden_values(const std::string& dir, const Value& figure) {
  SummaryWriter w(dir);
  for (int s = 0; s < 3; ++s) w.add_scalar("train_loss", 1.0 / (s + 1), s);
  w.add_scalar("val_loss", 0.25, 2);
  w.add_image("probe", at::arange(28 * 28 * 3, at::kLong).remainder(256).to(at::kByte).view({3, 28, 28}), 5);
  w.add_image_encoded("confusing_imgs", figure.image.encoded, figure.image.height, figure.image.width,
                      figure.image.colorspace, 7);
  w.add_histogram("weights", at::linspace(-1, 1, 101), 3);
  w.add_text("note", "hello **tensorboard**", 0);
  w.close();
  return w.path();
}

}  // namespace

TEST(GoldenFile, ReaderSeesWhatTensorBoardSaw) {
  const std::vector<Event> events = read_golden();
  if (events.empty()) GTEST_SKIP() << "no golden file at " << kGolden;
  ASSERT_EQ(events.size(), 9u);
  EXPECT_EQ(events[0].file_version, "brain.Event:2");
  EXPECT_EQ(events[0].source_writer, "tensorboard.summary.writer.event_file_writer");
  const float losses[] = {1.0f, 0.5f, 0.3333f};
  for (int s = 0; s < 3; ++s) {
    const Value& v = only_value(events[1 + s]);
    EXPECT_EQ(v.tag, "train_loss");
    EXPECT_EQ(v.kind, ValueKind::scalar);
    EXPECT_EQ(events[1 + s].step, s);
    EXPECT_NEAR(v.scalar, losses[s], 1e-4);
  }
  EXPECT_EQ(only_value(events[4]).tag, "val_loss");
  EXPECT_EQ(events[4].step, 2);
  EXPECT_FLOAT_EQ(only_value(events[4]).scalar, 0.25f);

  const Value& probe = only_value(events[5]);
  EXPECT_EQ(probe.kind, ValueKind::image);
  EXPECT_EQ(events[5].step, 5);
  EXPECT_EQ(probe.image.width, 28);
  EXPECT_EQ(probe.image.height, 28);
  EXPECT_EQ(probe.image.colorspace, 3);
  EXPECT_EQ(probe.image.encoded.size(), 141u);
  const Value& figure = only_value(events[6]);
  EXPECT_EQ(figure.tag, "confusing_imgs");
  EXPECT_EQ(events[6].step, 7);
  EXPECT_EQ(figure.image.width, 400);
  EXPECT_EQ(figure.image.height, 200);
  EXPECT_EQ(figure.image.encoded.size(), 4817u);

  const Value& weights = only_value(events[7]);
  EXPECT_EQ(weights.kind, ValueKind::histogram);
  EXPECT_EQ(events[7].step, 3);
  EXPECT_EQ(weights.histogram.num, 101);
  EXPECT_EQ(weights.histogram.min, -1);
  EXPECT_EQ(weights.histogram.max, 1);
  double total = 0;
  for (double c : weights.histogram.bucket) total += c;
  EXPECT_EQ(total, 101);
  EXPECT_EQ(weights.histogram.bucket.size(), weights.histogram.bucket_limit.size());

  const Value& note = only_value(events[8]);
  EXPECT_EQ(note.tag, "note/text_summary");
  EXPECT_EQ(note.kind, ValueKind::text);
  EXPECT_EQ(note.plugin_name, "text");
  EXPECT_EQ(events[8].step, 0);
  ASSERT_EQ(note.tensor.strings.size(), 1u);
  EXPECT_EQ(note.tensor.strings[0], "hello **tensorboard**");
  EXPECT_EQ(note.tensor.dtype, 7);
  EXPECT_EQ(note.tensor.shape, (std::vector<int64_t>{1}));
}

TEST(GoldenFile, OurWriterEncodesTheSameValuesFieldForField) {
  const std::vector<Event> golden = read_golden();
  if (golden.empty()) GTEST_SKIP() << "no golden file at " << kGolden;
  const std::string dir = glassbox::testing::scratch_dir("golden-writer");
  const std::string path = write_golden_values(dir, only_value(golden[6]));
  EXPECT_NE(fs::path(path).filename().string().find("events.out.tfevents."), std::string::npos);
  EventReader reader(path);
  const std::vector<Event> ours = reader.read_all();
  ASSERT_FALSE(reader.problem().has_value()) << reader.problem()->reason;
  ASSERT_EQ(ours.size(), golden.size());
  EXPECT_EQ(ours[0].file_version, golden[0].file_version);
  for (size_t i = 1; i < ours.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(ours[i].step, golden[i].step);
    EXPECT_GT(ours[i].wall_time, 1.7e9);  // seconds since 1970, with a fraction
    ASSERT_EQ(ours[i].values.size(), 1u);
    const Value &a = ours[i].values[0], &b = golden[i].values[0];
    EXPECT_EQ(a.tag, b.tag);
    EXPECT_EQ(a.kind, b.kind);
    EXPECT_EQ(a.plugin_name, b.plugin_name);
    EXPECT_EQ(a.scalar, b.scalar);  // both float32 of the same double
    EXPECT_EQ(a.image.width, b.image.width);
    EXPECT_EQ(a.image.height, b.image.height);
    EXPECT_EQ(a.image.colorspace, b.image.colorspace);
    EXPECT_EQ(a.histogram.min, b.histogram.min);
    EXPECT_EQ(a.histogram.max, b.histogram.max);
    EXPECT_EQ(a.histogram.num, b.histogram.num);
    EXPECT_NEAR(a.histogram.sum, b.histogram.sum, 1e-5);  // numpy sums float32 pairwise
    EXPECT_NEAR(a.histogram.sum_squares, b.histogram.sum_squares, 1e-4);
    EXPECT_EQ(a.histogram.bucket_limit, b.histogram.bucket_limit);
    // torch 2.11's linspace (the golden's) and libtorch 1.13's differ in the last bit of some values;
    // a value that sits on a bucket edge may then land one bucket over. Same buckets, same total,
    // and at most a handful of values moved by one bucket.
    ASSERT_EQ(a.histogram.bucket.size(), b.histogram.bucket.size());
    double moved = 0, total_a = 0, total_b = 0;
    for (size_t k = 0; k < a.histogram.bucket.size(); ++k) {
      moved += std::abs(a.histogram.bucket[k] - b.histogram.bucket[k]);
      total_a += a.histogram.bucket[k];
      total_b += b.histogram.bucket[k];
    }
    EXPECT_EQ(total_a, total_b);
    EXPECT_LE(moved, 10) << "values in different buckets";
    EXPECT_EQ(a.tensor.dtype, b.tensor.dtype);
    EXPECT_EQ(a.tensor.shape, b.tensor.shape);
    EXPECT_EQ(a.tensor.strings, b.tensor.strings);
  }
  // Images: PNG encoders differ in compression, not in pixels.
  int w1, h1, w2, h2;
  const auto ours_px = glassbox::testing::decode_png(ours[5].values[0].image.encoded, w1, h1, PNG_FORMAT_RGBA);
  const auto golden_px = glassbox::testing::decode_png(golden[5].values[0].image.encoded, w2, h2, PNG_FORMAT_RGBA);
  EXPECT_EQ(w1, w2);
  EXPECT_EQ(h1, h2);
  EXPECT_EQ(ours_px, golden_px);
  EXPECT_EQ(ours[6].values[0].image.encoded, golden[6].values[0].image.encoded);
}

TEST(ProtocDecode, OurFilesDecodeWithAnIndependentSchema) {
  const std::string dir = glassbox::testing::scratch_dir("protoc");
  std::string path;
  {
    SummaryWriter w(dir);
    w.add_scalar("train_loss", 0.5, 2, {"Training loss", "mean cross-entropy of the batch"});
    w.add_image("probe", at::full({1, 4, 6}, 0.5), 3);
    w.add_histogram("weights", at::tensor({-2.0f, 0.0f, 3.0f}), 4);
    w.add_text("note", "hi", 5);
    w.close();
    path = w.path();
  }
  EventReader reader(path);
  const std::vector<Event> events = reader.read_all();
  ASSERT_EQ(events.size(), 5u);
  // Re-read the raw records and hand each one's bytes to protoc.
  std::ifstream in(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> decoded;
  for (const Event& e : events) {
    uint64_t length = 0;
    std::memcpy(&length, bytes.data() + e.offset, 8);
    const std::string record_path = dir + "/record-" + std::to_string(decoded.size()) + ".bin";
    std::ofstream(record_path, std::ios::binary).write(bytes.data() + e.offset + 12, static_cast<std::streamsize>(length));
    const auto r = glassbox::testing::run_command("protoc --decode=glassbox_test.Event -I " + std::string(GLASSBOX_SOURCE_DIR) +
                                                  "/tests/data tensorboard-event.proto < " + record_path);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    decoded.push_back(r.output);
  }
  auto has = [&](size_t i, const std::string& text) {
    EXPECT_NE(decoded[i].find(text), std::string::npos) << "record " << i << " lacks " << text << ":\n" << decoded[i];
  };
  has(0, "file_version: \"brain.Event:2\"");
  has(0, "writer: \"glassbox\"");
  has(1, "step: 2");
  has(1, "tag: \"train_loss\"");
  has(1, "simple_value: 0.5");
  has(1, "display_name: \"Training loss\"");
  has(1, "summary_description: \"mean cross-entropy of the batch\"");
  has(1, "plugin_name: \"scalars\"");
  has(2, "height: 4");
  has(2, "width: 6");
  has(2, "colorspace: 1");
  has(2, "encoded_image_string: \"\\211PNG");
  has(3, "min: -2");
  has(3, "max: 3");
  has(3, "num: 3");
  has(3, "sum: 1");
  has(3, "sum_squares: 13");
  has(4, "tag: \"note/text_summary\"");
  has(4, "string_val: \"hi\"");
  has(4, "dtype: 7");
  has(4, "plugin_name: \"text\"");
  for (const auto& d : decoded) EXPECT_NE(d.find("wall_time: 1"), std::string::npos) << d;
}

TEST(Histogram, BucketsAsNumpyHistogramWithTheSupportTrimmed) {
  // Edges 0, 1, 2, 3, 4: bins [0,1) [1,2) [2,3) [3,4]. Values 1.5, 2.5, 2.7 fill bins 1 and 2.
  const std::vector<double> edges = {0, 1, 2, 3, 4};
  const float values[] = {1.5f, 2.5f, 2.7f};
  const Histogram h = make_histogram(values, 3, edges);
  // The Python writer keeps one empty bin on the left (its right edge is the support's left limit).
  EXPECT_EQ(h.bucket, (std::vector<double>{0, 1, 2}));
  EXPECT_EQ(h.bucket_limit, (std::vector<double>{1, 2, 3}));
  EXPECT_EQ(h.num, 3);
  EXPECT_FLOAT_EQ(h.sum, 6.7f);
  // A value in the first bin: a zero bucket is prepended; the last edge is inclusive.
  const float edge_values[] = {0.0f, 4.0f};
  const Histogram e = make_histogram(edge_values, 2, edges);
  EXPECT_EQ(e.bucket, (std::vector<double>{0, 1, 0, 0, 1}));
  EXPECT_EQ(e.bucket_limit, (std::vector<double>{0, 1, 2, 3, 4}));
  // Values outside the edges are counted in num but in no bucket.
  const float outside[] = {-5.0f, 2.5f};
  EXPECT_EQ(make_histogram(outside, 2, edges).bucket, (std::vector<double>{0, 1}));
}

TEST(SummaryWriter, ImagesFromFloatAndUint8TensorsDecodeToTheirPixels) {
  const std::string dir = glassbox::testing::scratch_dir("images");
  const at::Tensor rgb = at::arange(3 * 5 * 7, at::kLong).remainder(256).to(at::kByte).view({3, 5, 7});
  std::string path;
  {
    SummaryWriter w(dir);
    w.add_image("rgb", rgb, 0);
    w.add_image("gray_float", at::linspace(0, 1, 35).view({5, 7}), 1);
    w.close();
    path = w.path();
  }
  const auto events = EventReader(path).read_all();
  ASSERT_EQ(events.size(), 3u);
  int w = 0, h = 0;
  const auto px = glassbox::testing::decode_png(events[1].values[0].image.encoded, w, h, PNG_FORMAT_RGBA);
  ASSERT_EQ(w, 7);
  ASSERT_EQ(h, 5);
  for (int y = 0; y < 5; ++y)
    for (int x = 0; x < 7; ++x)
      for (int c = 0; c < 3; ++c) EXPECT_EQ(px[(y * 7 + x) * 4 + c], rgb[c][y][x].item<int>());
  EXPECT_EQ(events[2].values[0].image.colorspace, 1);
  const auto gray = glassbox::testing::decode_png(events[2].values[0].image.encoded, w, h, PNG_FORMAT_RGBA);
  EXPECT_EQ(gray[0], 0);
  EXPECT_EQ(gray[(5 * 7 - 1) * 4], 255);
}

TEST(SummaryWriter, FileNamesFollowThePythonWriterAndNeverReuseAFile) {
  const std::string dir = glassbox::testing::scratch_dir("names");
  std::string a, b;
  {
    SummaryWriter w1(dir), w2(dir);
    a = w1.path();
    b = w2.path();
  }
  EXPECT_NE(a, b);
  const std::string name = fs::path(a).filename().string();
  // events.out.tfevents.<10 digits>.<host>.<pid>.<n>
  ASSERT_EQ(name.rfind("events.out.tfevents.", 0), 0u);
  const std::string seconds = name.substr(20, 10);
  EXPECT_EQ(seconds.find_first_not_of("0123456789"), std::string::npos) << name;
  EXPECT_EQ(name[30], '.');
  EXPECT_NE(name.find("." + std::to_string(getpid()) + "."), std::string::npos) << name;
}

TEST(SummaryWriter, DropModeCountsWhatItDropsAndBlockModeLosesNothing) {
  const std::string dir = glassbox::testing::scratch_dir("queue");
  std::string path;
  {
    SummaryWriter w(dir, SummaryWriterOptions().max_queue(4).when_full(WhenFull::block));
    for (int i = 0; i < 1000; ++i) w.add_scalar("x", i, i);
    w.close();
    EXPECT_EQ(w.dropped(), 0u);
    path = w.path();
  }
  const auto events = EventReader(path).read_all();
  ASSERT_EQ(events.size(), 1001u);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(events[1 + i].step, i);

  // Keep the worker busy encoding large images so that the queue (4 values) fills up behind it.
  SummaryWriter dropping(dir, SummaryWriterOptions().max_queue(4).when_full(WhenFull::drop).flush_seconds(60));
  const at::Tensor noise = at::rand({3, 1500, 1500});
  for (int i = 0; i < 4; ++i) dropping.add_image("big", noise, i);
  for (int i = 0; i < 10000; ++i) dropping.add_scalar("y", i, i);
  dropping.close();
  EXPECT_GT(dropping.dropped(), 0u);
  EXPECT_EQ(EventReader(dropping.path()).read_all().size(), 1 + 4 + 10000 - dropping.dropped());
  EXPECT_THROW(dropping.add_scalar("late", 1, 1), glassbox::Error);
}
