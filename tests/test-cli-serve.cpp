// glassbox serve's flags: each bad one is one line naming the flag and the value, exit status 2, before
// any model is loaded or any port taken.
#include <gtest/gtest.h>

#include <fstream>

#include "test-support.h"

using glassbox::testing::run_command;
using glassbox::testing::scratch_dir;

namespace {

const std::string kFaces = std::string(GLASSBOX_SOURCE_DIR) + "/data/models/face-expression.pt";

void expect_refused(const std::string& flags, const std::string& says) {
  const auto r = run_command(std::string(GLASSBOX_CLI) + " serve " + flags);
  EXPECT_EQ(r.exit_code, 2) << flags << "\n" << r.output;
  EXPECT_NE(r.output.find(says), std::string::npos) << flags << "\n" << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << "one line: " << r.output;
  EXPECT_EQ(r.output.find("serving"), std::string::npos) << "nothing served: " << r.output;
}

}  // namespace

TEST(CliServe, BadFlagsAreOneLineAndExit2) {
  const std::string dir = scratch_dir("cli-serve");
  std::ofstream(dir + "/short-token") << "abc\n";
  expect_refused("--model " + kFaces + " --port 70000", "--port");
  expect_refused("--model " + kFaces + " --max-batch 0", "--max-batch");
  expect_refused("--model " + kFaces + " --max-delay-ms -1", "--max-delay-ms");
  expect_refused("--model " + kFaces + " --max-body-bytes 10", "--max-body-bytes");
  expect_refused("--model " + kFaces + " --request-timeout-ms 0", "--request-timeout-ms");
  expect_refused("--model " + kFaces + " --token-file " + dir + "/short-token", "at least 16");
  expect_refused("--model " + kFaces + " --token-file " + dir + "/missing", "missing");
  expect_refused("--model " + kFaces + " --runs " + dir + "/missing", "--runs");
  expect_refused("--model " + kFaces + " --name 'bad name'", "--name");
  expect_refused("--model " + kFaces + " --model " + kFaces, "already served");
  expect_refused("--model " + kFaces + " --name a --name b", "--name");
  expect_refused("--model " + dir + "/nothing.pt", dir + "/nothing.pt");
  expect_refused("--model " + kFaces + " --host 203.0.113.9 --port 1", "cannot listen on 203.0.113.9:1");
}
