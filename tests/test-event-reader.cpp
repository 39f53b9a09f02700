// The reader on damaged files: every kind of damage is reported with its byte offset and everything
// before it is still returned; a writer SIGKILLed mid-write leaves at most one torn tail.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "glassbox/tensorboard/crc32c.h"
#include "glassbox/tensorboard/event-reader.h"
#include "glassbox/tensorboard/events.h"
#include "glassbox/tensorboard/log-directory.h"
#include "glassbox/tensorboard/record.h"
#include "glassbox/tensorboard/summary-writer.h"
#include "glassbox/util/error.h"
#include "test-support.h"

using namespace glassbox::tensorboard;
namespace fs = std::filesystem;

namespace {

// Three good scalar records, framed by hand.
std::string three_records() {
  std::string bytes = frame_record(encode_file_version_event(1.5));
  bytes += frame_record(encode_scalar_event(2.0, 1, "a", 0.5f));
  bytes += frame_record(encode_scalar_event(3.0, 2, "a", 0.25f));
  return bytes;
}

struct Outcome {
  size_t events;
  std::optional<ReadProblem> problem;
};

Outcome read_bytes(std::string bytes) {
  EventReader reader(std::move(bytes), "test");
  const size_t n = reader.read_all().size();
  return {n, reader.problem()};
}

}  // namespace

TEST(EventReader, IntactFile) {
  const Outcome o = read_bytes(three_records());
  EXPECT_EQ(o.events, 3u);
  EXPECT_FALSE(o.problem.has_value());
}

TEST(EventReader, EmptyFileHasNoEventsAndNoProblem) {
  const Outcome o = read_bytes("");
  EXPECT_EQ(o.events, 0u);
  EXPECT_FALSE(o.problem.has_value());
}

TEST(EventReader, TruncatedLengthIsATornTail) {
  const std::string good = three_records();
  const size_t third = good.size() - frame_record(encode_scalar_event(3.0, 2, "a", 0.25f)).size();
  const Outcome o = read_bytes(good.substr(0, third + 5));
  EXPECT_EQ(o.events, 2u);
  ASSERT_TRUE(o.problem.has_value());
  EXPECT_EQ(o.problem->offset, third);
  EXPECT_TRUE(o.problem->torn_tail);
}

TEST(EventReader, RecordRunningPastTheEnd) {
  const std::string good = three_records();
  const size_t third = good.size() - frame_record(encode_scalar_event(3.0, 2, "a", 0.25f)).size();
  const Outcome o = read_bytes(good.substr(0, good.size() - 3));
  EXPECT_EQ(o.events, 2u);
  ASSERT_TRUE(o.problem.has_value());
  EXPECT_EQ(o.problem->offset, third);
  EXPECT_NE(o.problem->reason.find("past the end"), std::string::npos);
}

TEST(EventReader, BadLengthCrc) {
  std::string bytes = three_records();
  const size_t second = frame_record(encode_file_version_event(1.5)).size();
  bytes[second + 9] ^= 0x01;
  const Outcome o = read_bytes(bytes);
  EXPECT_EQ(o.events, 1u);
  ASSERT_TRUE(o.problem.has_value());
  EXPECT_EQ(o.problem->offset, second);
  EXPECT_EQ(o.problem->reason, "bad length CRC");
  EXPECT_FALSE(o.problem->torn_tail);
}

TEST(EventReader, BadDataCrc) {
  std::string bytes = three_records();
  const size_t second = frame_record(encode_file_version_event(1.5)).size();
  bytes[second + 14] ^= 0x20;  // a byte of the second record's data
  const Outcome o = read_bytes(bytes);
  EXPECT_EQ(o.events, 1u);
  ASSERT_TRUE(o.problem.has_value());
  EXPECT_EQ(o.problem->offset, second);
  EXPECT_EQ(o.problem->reason, "bad data CRC");
}

TEST(EventReader, HugeLengthWithAValidCrc) {
  std::string bytes = three_records();
  std::string header(8, '\0');
  const uint64_t huge = ~0ull >> 1;
  std::memcpy(&header[0], &huge, 8);
  const uint32_t crc = mask_crc(crc32c(header.data(), 8));
  header.append(reinterpret_cast<const char*>(&crc), 4);
  bytes += header + "abc";
  const Outcome o = read_bytes(bytes);
  EXPECT_EQ(o.events, 3u);
  ASSERT_TRUE(o.problem.has_value());
  EXPECT_EQ(o.problem->offset, three_records().size());
}

TEST(EventReader, RandomBytesNeverCrash) {
  std::mt19937 rng(3);
  for (int trial = 0; trial < 2000; ++trial) {
    std::string bytes(rng() % 200, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    if (trial % 2) bytes = three_records() + bytes;
    const Outcome o = read_bytes(bytes);
    if (!bytes.empty() && trial % 2 == 0) EXPECT_TRUE(o.problem.has_value() || o.events > 0);
    if (trial % 2) EXPECT_GE(o.events, 3u);
  }
}

TEST(EventReader, MissingFileIsAnErrorNamingIt) {
  EXPECT_THROW(EventReader("/nonexistent/events.out.tfevents.1"), glassbox::Error);
}

TEST(CrashSafety, SigkillMidWriteLeavesAtMostOneTornTail) {
  const std::string dir = glassbox::testing::scratch_dir("sigkill");
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The child writes scalars as fast as it can, flushing often, until it is killed.
    SummaryWriter w(dir, SummaryWriterOptions().max_queue(256).flush_seconds(0.001));
    for (int64_t step = 0;; ++step) w.add_scalar("loss", 1.0 / double(step + 1), step);
  }
  // Wait until the file has grown well past its first records, then kill mid-stream.
  std::string path;
  for (int i = 0; i < 500; ++i) {
    for (const auto& e : fs::directory_iterator(dir)) path = e.path().string();
    if (!path.empty() && fs::file_size(path) > 2'000'000) break;
    usleep(10'000);
  }
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));
  ASSERT_FALSE(path.empty());

  EventReader reader(path);
  const std::vector<Event> events = reader.read_all();
  ASSERT_GT(events.size(), 10000u);
  EXPECT_EQ(events[0].file_version, "brain.Event:2");
  for (size_t i = 1; i < events.size(); ++i) ASSERT_EQ(events[i].step, int64_t(i - 1)) << "record " << i;
  if (reader.problem()) {
    EXPECT_TRUE(reader.problem()->torn_tail) << reader.problem()->reason;
    // The torn record is the last thing in the file.
    EXPECT_GT(reader.problem()->offset + 12 + 64, fs::file_size(path) - 64);
  }
}

// A file read from disk goes record by record: three good records followed by 4 GiB of holes (a sparse
// file) give the three events and the damage at their end, without reading the rest.
TEST(EventReader, ASparseGigabyteFileIsReadOnlyAsFarAsItsRecords) {
  const std::string dir = glassbox::testing::scratch_dir("events-sparse");
  const std::string path = dir + "/events.out.tfevents.1.sparse";
  const std::string good = three_records();
  std::ofstream(path, std::ios::binary) << good;
  std::error_code ec;
  fs::resize_file(path, good.size() + (uint64_t(4) << 30), ec);
  if (ec) GTEST_SKIP() << "this file system cannot make a sparse 4 GiB file: " << ec.message();
  rusage before{}, after{};
  getrusage(RUSAGE_SELF, &before);
  EventReader reader(path);
  EXPECT_EQ(reader.read_all().size(), 3u);
  getrusage(RUSAGE_SELF, &after);
  ASSERT_TRUE(reader.problem().has_value());
  EXPECT_EQ(reader.problem()->offset, good.size());
  EXPECT_EQ(reader.problem()->reason, "bad length CRC");
  EXPECT_LT(after.ru_maxrss - before.ru_maxrss, 16 * 1024) << "kB of peak memory grew while reading";
  fs::remove(path);
}

// A log directory summarised per run and tag, each value seen once as it is read; damage reported
// with the file, what came before it kept.
TEST(LogDirectory, RunsTagsAndStepsAsTensorBoardFindsThem) {
  const std::string dir = glassbox::testing::scratch_dir("log-directory");
  {
    SummaryWriter a(dir + "/a");
    for (int64_t step = 3; step < 8; ++step) a.add_scalar("loss", 1.0f / float(step), step);
    SummaryWriter b(dir + "/nested/b");
    b.add_text("note", "hello", 2);
    b.add_text("note", "again", 9);
  }
  std::ofstream(dir + "/a/events.out.tfevents.0.torn", std::ios::binary) << std::string("\x10\x00\x00", 3);
  int64_t seen = 0;
  const auto runs = read_log_directory(dir, [&](const std::string& run, const Event& e, const Value& v) {
    if (run == "a" && v.tag == "loss") EXPECT_NEAR(v.scalar, 1.0 / double(e.step), 1e-6);
    ++seen;
  });
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].run, "a");
  EXPECT_EQ(runs[0].files.size(), 2u);
  const TagSummary& loss = runs[0].tags.at("loss");
  EXPECT_EQ(loss.kind, ValueKind::scalar);
  EXPECT_EQ(loss.count, 5);
  EXPECT_EQ(loss.first_step, 3);
  EXPECT_EQ(loss.last_step, 7);
  ASSERT_EQ(runs[0].problems.size(), 1u);
  EXPECT_NE(runs[0].problems[0].file.find("tfevents.0.torn"), std::string::npos);
  EXPECT_EQ(runs[1].run, "nested/b");
  EXPECT_EQ(runs[1].tags.at("note/text_summary").kind, ValueKind::text);
  EXPECT_EQ(runs[1].tags.at("note/text_summary").last_step, 9);
  EXPECT_EQ(seen, 7);
  EXPECT_EQ(image_file_name("nested/b", "x y/z", 4, 2, "GIF89a"), "nested_b-x_y_z-step4-2.gif");
  const std::string what = glassbox::testing::error_message_of<glassbox::Error>([&] { read_log_directory(dir + "/nested/b/none"); });
  EXPECT_NE(what.find("no such file or directory"), std::string::npos) << what;
}
