// Data-parallel training over c10d on loopback: ranks started by torchrun's environment (as a shell
// would) and by glassbox's own launcher. The truth is arithmetic: with the same global sample order, two
// ranks of 32 samples a step average the same 64 gradients that one rank of 64 does, so their weights
// agree to float rounding; every rank ends with bitwise the same weights; and a rank that dies or hangs
// stops the others within the timeout.
#include <gtest/gtest.h>
#include <torch/csrc/jit/serialization/pickle.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <poll.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <nlohmann/json.hpp>

#include "glassbox/distributed/local-launcher.h"
#include "glassbox/train/data-parallel.h"
#include "glassbox/models/checkpoint.h"
#include "glassbox/util/zip-archive.h"
#include "test-support.h"

namespace fs = std::filesystem;
using glassbox::testing::read_all;
using glassbox::testing::run_command;

namespace {

const std::string kCli = GLASSBOX_CLI;
const std::string kWorker = DISTRIBUTED_WORKER;

std::vector<float> floats(const std::string& path) {
  const std::string bytes = read_all(path);
  std::vector<float> out(bytes.size() / sizeof(float));
  std::memcpy(out.data(), bytes.data(), out.size() * sizeof(float));
  return out;
}

double max_abs_difference(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  double m = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) m = std::max(m, std::fabs(double(a[i]) - double(b[i])));
  return m;
}

// Two ranks of `worker_args` started the way torchrun does it: the same command twice, with RANK,
// WORLD_SIZE, MASTER_ADDR and MASTER_PORT in the environment.
glassbox::testing::CommandResult two_ranks(const std::string& command) {
  const std::string env = "WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=" +
                          std::to_string(glassbox::distributed::free_local_port()) + " ";
  return run_command("sh -c '" + env + "RANK=1 " + command + " & other=$!; " + env + "RANK=0 " + command +
                     "; mine=$?; wait $other; theirs=$?; exit $((mine | theirs))'");
}

// A small IDX dataset of 8x8 ramps (each image different), labels cycling over 3 classes.
std::string make_dataset(const std::string& dir, int n) {
  fs::create_directories(dir);
  std::vector<uint8_t> labels;
  for (int i = 0; i < n; ++i) labels.push_back(static_cast<uint8_t>(i % 3));
  glassbox::testing::write_bytes(dir + "/train-images-idx3-ubyte", glassbox::testing::idx_images(n, 8, 8));
  glassbox::testing::write_bytes(dir + "/train-labels-idx1-ubyte", glassbox::testing::idx_labels(labels));
  return dir;
}

std::vector<float> checkpoint_weights(const std::string& path) {
  const glassbox::models::Checkpoint c = glassbox::models::load_checkpoint(path);
  std::vector<float> out;
  for (const auto& p : c.model->parameters()) {
    const at::Tensor t = p.detach().contiguous();
    out.insert(out.end(), t.data_ptr<float>(), t.data_ptr<float>() + t.numel());
  }
  return out;
}

int count_lines(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

}  // namespace

TEST(Distributed, TwoRanksOfHalfBatchesMatchOneRankOfWholeBatches) {
  for (const std::string optimizer : {"sgd", "adam"}) {
    SCOPED_TRACE(optimizer);
    const std::string dir = glassbox::testing::scratch_dir("dist-equal-" + optimizer);
    fs::create_directories(dir + "/one");
    fs::create_directories(dir + "/two");
    fs::create_directories(dir + "/two-64");
    auto r = run_command(kWorker + " " + dir + "/one " + optimizer + " 64");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    r = two_ranks(kWorker + " " + dir + "/two " + optimizer + " 32");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const std::vector<float> one = floats(dir + "/one/rank-0.bin");
    ASSERT_GT(one.size(), 1000u);
    EXPECT_LE(max_abs_difference(one, floats(dir + "/two/rank-0.bin")), 1e-5);
    // Every rank holds the same weights, to the bit (the ranks started from different ones).
    EXPECT_EQ(read_all(dir + "/two/rank-0.bin"), read_all(dir + "/two/rank-1.bin"));
    // The comparison can fail: two ranks of 64 (a global batch of 128) take other steps.
    r = two_ranks(kWorker + " " + dir + "/two-64 " + optimizer + " 64");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_GT(max_abs_difference(one, floats(dir + "/two-64/rank-0.bin")), 1e-3);
  }
}

TEST(Distributed, BucketsAndOverlapDoNotChangeTheResult) {
  // One bucket per parameter, many small buckets while backward runs, one after backward: the same
  // sums, reduced in other groupings; the weights agree to float rounding with one process.
  const std::string dir = glassbox::testing::scratch_dir("dist-buckets");
  fs::create_directories(dir + "/one");
  ASSERT_EQ(run_command(kWorker + " " + dir + "/one sgd 64").exit_code, 0);
  const std::vector<float> one = floats(dir + "/one/rank-0.bin");
  for (const std::string variant : {"0 overlap", "0.001 overlap", "0.001 no-overlap", "100 no-overlap"}) {
    SCOPED_TRACE(variant);
    const std::string out = dir + "/" + std::to_string(std::hash<std::string>()(variant));
    fs::create_directories(out);
    const auto r = two_ranks(kWorker + " " + out + " sgd 32 " + variant);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_LE(max_abs_difference(one, floats(out + "/rank-0.bin")), 1e-5);
    EXPECT_EQ(read_all(out + "/rank-0.bin"), read_all(out + "/rank-1.bin"));
  }
}

TEST(Distributed, LauncherStartsRanksAndOnlyRankZeroWrites) {
  const std::string dir = glassbox::testing::scratch_dir("dist-launch");
  const std::string data = make_dataset(dir + "/data", 240);
  const auto r = run_command(kCli + " train --nproc-per-node 2 --model mlp --hidden 16 --threads 1 --epochs 2 --data " +
                             data + " --logdir " + dir + "/run --summary-json " + dir + "/summary.json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // One progress report (rank 0's), not one per rank.
  EXPECT_EQ(r.output.find("[rank 1]"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("2 ranks"), std::string::npos) << r.output;
  const auto summary = nlohmann::json::parse(read_all(dir + "/summary.json"));
  EXPECT_EQ(summary["world_size"], 2);
  EXPECT_GE(summary["all_reduce_seconds"].get<double>(), 0.0);
  // metrics.csv written once: one header, each epoch's validation once.
  const std::string csv = read_all(dir + "/run/metrics.csv");
  size_t headers = 0, vals = 0;
  for (size_t at = csv.find("step,name,value"); at != std::string::npos; at = csv.find("step,name,value", at + 1)) ++headers;
  for (size_t at = csv.find(",val_loss,"); at != std::string::npos; at = csv.find(",val_loss,", at + 1)) ++vals;
  EXPECT_EQ(headers, 1u);
  EXPECT_EQ(vals, 2u);
  EXPECT_EQ(glassbox::models::load_checkpoint(dir + "/run/checkpoints/last.ckpt").meta.epoch, 2);
}

TEST(Distributed, ResumeIsBitIdenticalToAnUninterruptedRun) {
  const std::string dir = glassbox::testing::scratch_dir("dist-resume");
  const std::string data = make_dataset(dir + "/data", 300);
  const std::string train = kCli + " train --nproc-per-node 2 --model cnn --hidden 16 --conv-channels 4 --threads 1 --quiet "
                                   "--seed 5 --data " + data;
  ASSERT_EQ(run_command(train + " --epochs 3 --logdir " + dir + "/straight").exit_code, 0);
  ASSERT_EQ(run_command(train + " --epochs 1 --logdir " + dir + "/first").exit_code, 0);
  const auto r = run_command(train + " --epochs 3 --logdir " + dir + "/second --resume " + dir + "/first/checkpoints/last.ckpt");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::vector<float> straight = checkpoint_weights(dir + "/straight/checkpoints/last.ckpt");
  const std::vector<float> resumed = checkpoint_weights(dir + "/second/checkpoints/last.ckpt");
  ASSERT_EQ(straight.size(), resumed.size());
  EXPECT_EQ(std::memcmp(straight.data(), resumed.data(), straight.size() * sizeof(float)), 0);
  EXPECT_GT(max_abs_difference(straight, checkpoint_weights(dir + "/first/checkpoints/last.ckpt")), 1e-4);
}

TEST(Distributed, BadLaunchEnvironmentIsOneLineAndExitTwo) {
  const std::string dir = glassbox::testing::scratch_dir("dist-env");
  const std::string data = make_dataset(dir + "/data", 48);
  const std::string train = " " + kCli + " train --quiet --model mlp --hidden 8 --data " + data + " --logdir " + dir + "/run";
  struct Case {
    std::string env, fragment;
  };
  for (const Case& c : {Case{"WORLD_SIZE=2", "RANK"}, Case{"RANK=0", "WORLD_SIZE"},
                        Case{"RANK=2 WORLD_SIZE=2", "RANK"}, Case{"RANK=0 WORLD_SIZE=two", "WORLD_SIZE"},
                        Case{"RANK=0 WORLD_SIZE=2 MASTER_PORT=70000", "MASTER_PORT"},
                        Case{"RANK=0 WORLD_SIZE=2 TORCHELASTIC_RUN_ID=$(printf 'a\\033b')", "TORCHELASTIC_RUN_ID"},
                        Case{"RANK=0 WORLD_SIZE=2 MASTER_PORT=29500", "--nproc-per-node"}}) {
    SCOPED_TRACE(c.env);
    const std::string extra = c.fragment == "--nproc-per-node" ? " --nproc-per-node 2" : "";
    const auto r = run_command("env " + c.env + train + extra);
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_EQ(count_lines(r.output), 1) << r.output;
    EXPECT_EQ(r.output.rfind("glassbox: error: ", 0), 0u) << r.output;
    EXPECT_NE(r.output.find(c.fragment), std::string::npos) << r.output;
    EXPECT_FALSE(fs::exists(dir + "/run"));
  }
  // Launcher flags that cannot work, before anything starts.
  for (const std::string flags : {"--nproc-per-node 0", "--nnodes 2 --node-rank 2", "--master-port 70000",
                                  "--nproc-per-node 2 --dist-timeout 0", "--nproc-per-node 2 --rendezvous udp"}) {
    SCOPED_TRACE(flags);
    const auto r = run_command(train.substr(1) + " " + flags);
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_EQ(count_lines(r.output), 1) << r.output;
    EXPECT_FALSE(fs::exists(dir + "/run"));
  }
}

namespace {

// A socket listening on a free loopback port (its number in `port`), or -1.
int listen_on_loopback(int backlog, std::string& port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, backlog) != 0) return -1;
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  port = std::to_string(ntohs(addr.sin_port));
  return fd;
}

}  // namespace

TEST(Distributed, PortInUseAndUnreachableMasterAreOneLineAndExitTwo) {
  const std::string dir = glassbox::testing::scratch_dir("dist-port");
  const std::string data = make_dataset(dir + "/data", 48);
  const std::string train = kCli + " train --quiet --model mlp --hidden 8 --data " + data + " --logdir " + dir + "/run";
  // A port someone else listens on.
  std::string port;
  const int fd = listen_on_loopback(1, port);
  ASSERT_GE(fd, 0);
  auto r = run_command(train + " --nproc-per-node 2 --master-port " + port);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_EQ(count_lines(r.output), 1) << r.output;
  EXPECT_NE(r.output.find(port), std::string::npos) << r.output;
  // Rank 0 launched from outside, told to serve the rendezvous on it.
  r = run_command("env RANK=0 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=" + port + " " + train + " --dist-timeout 5");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_EQ(count_lines(r.output), 1) << r.output;
  EXPECT_NE(r.output.find("port " + port + " is in use"), std::string::npos) << r.output;
  ::close(fd);
  EXPECT_FALSE(fs::exists(dir + "/run"));
  // Rank 1 whose master never answers: it gives up after --dist-timeout.
  const auto start = std::chrono::steady_clock::now();
  r = run_command("env RANK=1 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=" +
                  std::to_string(glassbox::distributed::free_local_port()) + " " + train + " --dist-timeout 3");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_EQ(count_lines(r.output), 1) << r.output;
  EXPECT_NE(r.output.find("127.0.0.1"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("no rank 0 answered within 3 s"), std::string::npos) << r.output;
  EXPECT_LT(seconds, 30) << r.output;
  // Rank 0 whose peers never come: it says so, within the timeout and its grace, however large the world.
  for (const int world : {2, 8192}) {
    SCOPED_TRACE(world);
    const auto begin = std::chrono::steady_clock::now();
    r = run_command("env RANK=0 WORLD_SIZE=" + std::to_string(world) + " MASTER_ADDR=127.0.0.1 MASTER_PORT=" +
                    std::to_string(glassbox::distributed::free_local_port()) + " " + train + " --dist-timeout 3");
    const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_EQ(count_lines(r.output), 1) << r.output;
    EXPECT_NE(r.output.find("rank 0 of " + std::to_string(world) + " could not join within 3 s: the other " +
                            std::to_string(world - 1) + " rank"),
              std::string::npos)
        << r.output;
    EXPECT_LT(waited, 15) << r.output;
    EXPECT_FALSE(fs::exists(dir + "/run"));
  }
}

// Two jobs started at once on one machine and one master port: one job's rank 0 takes the port, the
// other's fails on it, and that job's rank 1, which may reach the winner's store first, never takes a
// rank's place there (the rendezvous keys live under each job's name). Before, both jobs often failed.
TEST(Distributed, TwoJobsStartedTogetherOnOnePortNeverMix) {
  const std::string dir = glassbox::testing::scratch_dir("dist-two-jobs");
  const std::string data = make_dataset(dir + "/data", 4000);  // a few seconds a job, so that the two overlap
  int overlapped = 0;
  for (int round = 0; round < 4; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const std::string port = std::to_string(glassbox::distributed::free_local_port());
    std::vector<glassbox::testing::CommandResult> results(2);
    std::vector<std::thread> jobs;
    for (int j = 0; j < 2; ++j)
      jobs.emplace_back([&, j] {
        results[size_t(j)] = run_command(kCli + " train --quiet --model mlp --hidden 8 --epochs 2 --data " + data +
                                         " --logdir " + dir + "/r" + std::to_string(round) + "-" + std::to_string(j) +
                                         " --nproc-per-node 2 --dist-timeout 10 --master-port " + port);
      });
    for (auto& t : jobs) t.join();
    int succeeded = 0;
    for (const auto& r : results) {
      if (r.exit_code == 0) {
        ++succeeded;
        continue;
      }
      EXPECT_EQ(r.exit_code, 2) << r.output;
      EXPECT_EQ(count_lines(r.output), 1) << r.output;
      EXPECT_NE(r.output.find("port " + port + " is in use"), std::string::npos) << r.output;
    }
    // Both succeed only when one job was done before the other took the port.
    EXPECT_GE(succeeded, 1) << results[0].output << results[1].output;
    overlapped += succeeded == 1;
  }
  EXPECT_GE(overlapped, 1) << "the jobs never ran at the same time: the test proved nothing";
}

// Peers and files that are not a rendezvous: a listener that accepts and never answers, one that sends
// eight junk bytes, a rendezvous file that is a symbolic link or a directory. Each is one line, exit 2,
// within the timeout (and its grace), and nothing is written through the link.
TEST(Distributed, PeersAndFilesThatAreNotARendezvousFailWithinTheTimeout) {
  const std::string dir = glassbox::testing::scratch_dir("dist-not-a-store");
  const std::string data = make_dataset(dir + "/data", 48);
  const std::string train = kCli + " train --quiet --model mlp --hidden 8 --data " + data + " --logdir " + dir + "/run";
  std::string port;
  const int fd = listen_on_loopback(8, port);
  ASSERT_GE(fd, 0);
  // A peer that reads and never answers; and one that answers eight junk bytes to whoever connects.
  for (const bool junk : {false, true}) {
    SCOPED_TRACE(junk ? "junk bytes" : "silent peer");
    std::atomic<bool> stop{false};
    std::thread peer([&] {
      std::vector<int> held;
      while (!stop) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 100) <= 0) continue;
        const int c = ::accept(fd, nullptr, nullptr);
        if (c < 0) continue;
        if (junk) (void)!::write(c, "\x7fjunk!!\n", 8);
        held.push_back(c);
      }
      for (int c : held) ::close(c);
    });
    const auto start = std::chrono::steady_clock::now();
    const auto r = run_command("env RANK=1 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=" + port + " " + train +
                               " --dist-timeout 2");
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    stop = true;
    peer.join();
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_EQ(count_lines(r.output), 1) << r.output;
    EXPECT_NE(r.output.find("127.0.0.1:" + port), std::string::npos) << r.output;
    EXPECT_LT(seconds, 20) << r.output;
  }
  ::close(fd);
  // Rendezvous files that are a link (c10d appended to its target) or a directory (an uncaught error).
  { std::ofstream(dir + "/victim") << "keep"; }
  fs::create_symlink(dir + "/victim", dir + "/link");
  fs::create_directories(dir + "/folder");
  for (const std::string file : {dir + "/link", dir + "/folder"}) {
    SCOPED_TRACE(file);
    const auto r = run_command(train + " --nproc-per-node 2 --dist-timeout 2 --rendezvous file:" + file);
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_EQ(count_lines(r.output), 1) << r.output;
    EXPECT_NE(r.output.find("rendezvous file"), std::string::npos) << r.output;
  }
  EXPECT_EQ(read_all(dir + "/victim"), "keep");
  EXPECT_FALSE(fs::exists(dir + "/run"));
}

TEST(Distributed, AKilledRankStopsTheOthersAndTheLauncherNamesIt) {
  const std::string dir = glassbox::testing::scratch_dir("dist-kill");
  const std::string data = make_dataset(dir + "/data", 480);
  // A long run; once both ranks train, rank 1 is killed.
  const std::string script =
      kCli + " train --nproc-per-node 2 --model mlp --hidden 16 --threads 1 --epochs 100000 --dist-timeout 20 --data " +
      data + " --logdir " + dir + "/run > " + dir + "/out.txt 2>&1 & launcher=$!; "
      "for i in $(seq 300); do sleep 0.1; [ -s " + dir + "/run/metrics.csv ] && break; done; sleep 1; "
      "for k in $(pgrep -P $launcher); do tr \"\\0\" \"\\n\" < /proc/$k/environ | grep -qx RANK=1 && kill -9 $k; done; "
      "start=$(date +%s); wait $launcher; echo \"status $? seconds $(( $(date +%s) - start ))\"";
  const auto r = run_command("bash -c '" + script + "'");
  const std::string out = read_all(dir + "/out.txt");
  EXPECT_NE(r.output.find("status 1 "), std::string::npos) << r.output << out;
  const int seconds = std::stoi(r.output.substr(r.output.find("seconds ") + 8));
  EXPECT_LT(seconds, 20) << out;
  EXPECT_NE(out.find("rank 1"), std::string::npos) << out;
  EXPECT_NE(out.find("signal 9"), std::string::npos) << out;
  EXPECT_EQ(count_lines(out.substr(out.find("glassbox: error:"))), 1) << out;
  // What was written is whole: the last checkpoint loads.
  if (fs::exists(dir + "/run/checkpoints/last.ckpt"))
    EXPECT_GE(glassbox::models::load_checkpoint(dir + "/run/checkpoints/last.ckpt").meta.epoch, 1);
  EXPECT_EQ(run_command("pgrep -f \"train .*dist-kill/dat[a]\"").output, "");
}

TEST(Distributed, AHungRankStopsTheOthersWithinTheTimeout) {
  const std::string dir = glassbox::testing::scratch_dir("dist-hang");
  const std::string data = make_dataset(dir + "/data", 480);
  const std::string port = std::to_string(glassbox::distributed::free_local_port());
  const std::string train = "env WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=" + port + " " + kCli +
                            " train --quiet --model mlp --hidden 16 --threads 1 --epochs 100000 --dist-timeout 4 --data " +
                            data + " --logdir " + dir + "/run";
  // Rank 1 stops (SIGSTOP: alive, silent) once both train; rank 0 must give up on its own.
  const std::string script =
      "RANK=1 " + train + " > /dev/null 2>&1 & one=$!; RANK=0 " + train + " > " + dir + "/out.txt 2>&1 & zero=$!; "
      "for i in $(seq 300); do sleep 0.1; [ -s " + dir + "/run/metrics.csv ] && break; done; sleep 1; "
      "kill -STOP $one; start=$(date +%s); wait $zero; echo \"status $? seconds $(( $(date +%s) - start ))\"; kill -9 $one";
  const auto r = run_command("bash -c '" + script + "'");
  const std::string out = read_all(dir + "/out.txt");
  EXPECT_NE(r.output.find("status 1 "), std::string::npos) << r.output << out;
  const int seconds = std::stoi(r.output.substr(r.output.find("seconds ") + 8));
  EXPECT_LE(seconds, 15) << out;
  EXPECT_EQ(count_lines(out), 1) << out;
  EXPECT_NE(out.find("rank 0 of 2 ("), std::string::npos) << out;  // and what it was doing
}

namespace {

// Every regular file under `dir` by name, with its bytes.
std::map<std::string, std::string> files_under(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file()) out[e.path().filename().string()] = read_all(e.path().string());
  return out;
}

// The tensor `explain --save-tensor` wrote (torch.save's zip of a pickle), its container checked first.
at::Tensor saved_tensor(const std::string& bytes) {
  glassbox::ZipArchive check(bytes, "a.pt");
  return torch::jit::pickle_load(std::vector<char>(bytes.begin(), bytes.end())).toTensor();
}

double relative_difference(const at::Tensor& a, const at::Tensor& b) {
  EXPECT_EQ(a.sizes(), b.sizes());
  if (a.sizes() != b.sizes()) return 1e30;
  return ((a.to(at::kDouble) - b.to(at::kDouble)).abs().max() / b.to(at::kDouble).abs().max().clamp_min(1e-30))
      .item<double>();
}

// Two figures of attributions that agree to float rounding: the same size, and pixels that differ, if
// at all, by a few levels (a value on a colour map's step boundary) and rarely.
void expect_figures_close(const std::string& a, const std::string& b) {
  int wa = 0, ha = 0, wb = 0, hb = 0;
  const std::vector<uint8_t> pa = glassbox::testing::decode_png(a, wa, ha), pb = glassbox::testing::decode_png(b, wb, hb);
  ASSERT_FALSE(pa.empty());
  ASSERT_EQ(wa, wb);
  ASSERT_EQ(ha, hb);
  ASSERT_EQ(pa.size(), pb.size());
  size_t differing = 0;
  int worst = 0;
  for (size_t i = 0; i < pa.size(); ++i) {
    const int d = std::abs(int(pa[i]) - int(pb[i]));
    differing += d != 0;
    worst = std::max(worst, d);
  }
  EXPECT_LE(worst, 8);
  EXPECT_LE(double(differing), 0.01 * double(pa.size()));
}

}  // namespace

TEST(Distributed, ShardedMiningAndExplainingEqualOneProcess) {
  const std::string dir = glassbox::testing::scratch_dir("dist-mine");
  const std::string data = make_dataset(dir + "/data", 2600);
  ASSERT_EQ(run_command(kCli + " train --quiet --model cnn --conv-channels 4 --hidden 16 --threads 1 --data " + data +
                        " --logdir " + dir + "/run").exit_code, 0);
  const std::string model = " --checkpoint " + dir + "/run/checkpoints/last.ckpt --data " + data + " --split train --threads 1";
  // Mining: 2,600 samples are three batches of up to 1,000: two ranks take two and one, four ranks leave
  // one idle. The ranking, pair matrix and figures must be exactly those of one process.
  for (const std::string ranks : {"2", "4"}) {
    SCOPED_TRACE(ranks);
    auto r = run_command(kCli + " confused" + model + " --top 12 --out " + dir + "/one-" + ranks);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    r = run_command(kCli + " confused" + model + " --top 12 --nproc-per-node " + ranks + " --out " + dir + "/many-" + ranks);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    auto one = files_under(dir + "/one-" + ranks), many = files_under(dir + "/many-" + ranks);
    auto index_one = nlohmann::json::parse(one["index.json"]), index_many = nlohmann::json::parse(many["index.json"]);
    EXPECT_EQ(index_many["world_size"], std::stoi(ranks));
    for (auto* index : {&index_one, &index_many}) index->erase("mining_seconds"), index->erase("world_size");
    EXPECT_EQ(index_one, index_many);
    EXPECT_EQ(index_one["ranked"].size(), 12u);
    one.erase("index.json"), many.erase("index.json");
    EXPECT_GE(one.size(), 2u);  // pairs.png and figures
    EXPECT_TRUE(one == many) << "figures differ";
  }
  // Explaining a batch: blocks of 7 samples over 2 ranks (3 and 4), and 1 sample over 2 (rank 1 idle).
  for (const std::string index : {"0:7", "5"}) {
    SCOPED_TRACE(index);
    const std::string args = kCli + " explain" + model + " --method ig --n-steps 8 --target top --index " + index;
    fs::create_directories(dir + "/explain-one-" + index);
    fs::create_directories(dir + "/explain-two-" + index);
    const std::string one = dir + "/explain-one-" + index, two = dir + "/explain-two-" + index;
    auto r = run_command(args + " --out " + one + "/x.png --save-tensor " + one + "/a.pt");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    r = run_command(args + " --nproc-per-node 2 --out " + two + "/x.png --save-tensor " + two + "/a.pt");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_EQ(r.output.find("[rank 1]"), std::string::npos) << r.output;
    // A batch of 7 and blocks of 3 + 4 may take different float kernels (they do on AMD EPYC: 1.4e-7
    // relative), so the attributions agree within float rounding and the figures within a few levels.
    const auto files_one = files_under(one), files_two = files_under(two);
    ASSERT_EQ(files_one.size(), index == "5" ? 2u : 8u);
    for (const auto& [name, bytes] : files_one) {
      SCOPED_TRACE(name);
      ASSERT_EQ(files_two.count(name), 1u);
      if (name == "a.pt")
        EXPECT_LT(relative_difference(saved_tensor(bytes), saved_tensor(files_two.at(name))), 1e-5);
      else
        expect_figures_close(bytes, files_two.at(name));
    }
  }
}

TEST(Distributed, TwoNodesAndAFileRendezvousOnLoopback) {
  const std::string dir = glassbox::testing::scratch_dir("dist-nodes");
  const std::string data = make_dataset(dir + "/data", 240);
  const std::string train = kCli + " train --quiet --model mlp --hidden 16 --threads 1 --epochs 2 --seed 3 --data " + data;
  // One process, for the weights every distributed variant must reach (within float rounding: the
  // batch of 64 is split in two).
  ASSERT_EQ(run_command(train + " --batch-size 64 --logdir " + dir + "/one").exit_code, 0);
  const std::vector<float> one = checkpoint_weights(dir + "/one/checkpoints/last.ckpt");
  // Two "machines" of one rank each, started as one would start them on two hosts.
  const std::string port = std::to_string(glassbox::distributed::free_local_port());
  const std::string node = train + " --batch-size 32 --nnodes 2 --master-addr 127.0.0.1 --master-port " + port;
  auto r = run_command("bash -c '" + node + " --node-rank 1 & other=$!; " + node + " --node-rank 0 --logdir " + dir +
                       "/nodes; mine=$?; wait $other; theirs=$?; exit $((mine | theirs))'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_LE(max_abs_difference(one, checkpoint_weights(dir + "/nodes/checkpoints/last.ckpt")), 1e-5);
  // Ranks meeting through a file instead of a TCP store; the file is gone afterwards.
  r = run_command(train + " --batch-size 32 --nproc-per-node 2 --rendezvous file:" + dir + "/rdv --logdir " + dir + "/file");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_LE(max_abs_difference(one, checkpoint_weights(dir + "/file/checkpoints/last.ckpt")), 1e-5);
  EXPECT_FALSE(fs::exists(dir + "/rdv"));
}

namespace {

// A rank of a world that never communicates: enough for what is decided locally (a shard).
struct NoCollectives : glassbox::distributed::Communicator {
  NoCollectives(int rank, int world) : rank_(rank), world_(world) {}
  int rank() const override { return rank_; }
  int world_size() const override { return world_; }
  void broadcast(at::Tensor&, int, const char*) override { ADD_FAILURE() << "no collectives here"; }
  void all_reduce_sum(at::Tensor&, const char*) override { ADD_FAILURE() << "no collectives here"; }
  std::unique_ptr<glassbox::distributed::PendingCollective> start_all_reduce_sum(at::Tensor, const char*) override {
    ADD_FAILURE() << "no collectives here";
    return nullptr;
  }
  std::vector<at::Tensor> all_gather(const at::Tensor&, const char*) override {
    ADD_FAILURE() << "no collectives here";
    return {};
  }
  void barrier(const char*) override { ADD_FAILURE() << "no collectives here"; }
  int rank_, world_;
};

}  // namespace

TEST(Distributed, ShardsAreDistributedSamplersShards) {
  // PyTorch's DistributedSampler (shuffle off, so that it shards the order it is given) computes the truth,
  // over an order that is a permutation, for worlds larger and smaller than the data.
  for (const auto& [n, world] : std::vector<std::pair<int, int>>{{10, 3}, {12, 4}, {7, 2}, {2, 5}, {1, 3}, {64, 7}}) {
    SCOPED_TRACE(std::to_string(n) + " samples, " + std::to_string(world) + " ranks");
    at::manual_seed(n * 100 + world);
    const at::Tensor order = at::randperm(n, at::kLong);
    std::string order_list;
    for (int64_t i = 0; i < n; ++i) order_list += std::to_string(order[i].item<int64_t>()) + ",";
    const auto r = run_command("/usr/bin/python3 -c 'import torch.utils.data.distributed as d\n"
                               "order = [" + order_list + "]\n"
                               "for r in range(" + std::to_string(world) + "):\n"
                               "  s = d.DistributedSampler(range(" + std::to_string(n) + "), num_replicas=" +
                               std::to_string(world) + ", rank=r, shuffle=False)\n"
                               "  print(\" \".join(str(order[i]) for i in s))'");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    std::istringstream lines(r.output);
    for (int rank = 0; rank < world; ++rank) {
      std::string line, ours;
      std::getline(lines, line);
      glassbox::train::DataParallel parallel(std::make_shared<NoCollectives>(rank, world));
      const at::Tensor shard = parallel.shard(order);
      for (int64_t i = 0; i < shard.size(0); ++i) ours += (i ? " " : "") + std::to_string(shard[i].item<int64_t>());
      EXPECT_EQ(ours, line) << "rank " << rank;
    }
  }
}
