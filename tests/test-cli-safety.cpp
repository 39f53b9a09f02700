// The glassbox tool pointed at hostile input, as a careful attacker would: every failing command is one
// line naming its flag or file, exit 2, and leaves nothing behind; nothing is written through a
// symbolic link; one run per logdir; a resumed run appends its metrics; allocation bombs stay bounded.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "glassbox/models/checkpoint.h"
#include "glassbox/tensorboard/summary-writer.h"
#include "test-support.h"

namespace fs = std::filesystem;
using glassbox::testing::idx_images;
using glassbox::testing::idx_labels;
using glassbox::testing::run_command;
using glassbox::testing::write_bytes;

namespace {

const std::string kCli = GLASSBOX_CLI;

// An IDX dataset of `n` 8x8 images over 3 classes (train and t10k), with optional extra files.
std::string make_dataset(const std::string& dir, uint32_t n = 48) {
  fs::create_directories(dir);
  std::vector<uint8_t> labels;
  for (uint32_t i = 0; i < n; ++i) labels.push_back(static_cast<uint8_t>(i % 3));
  for (const char* split : {"train", "t10k"}) {
    write_bytes(dir + "/" + split + "-images-idx3-ubyte", idx_images(n, 8, 8));
    write_bytes(dir + "/" + split + "-labels-idx1-ubyte", idx_labels(labels));
  }
  return dir;
}

std::vector<std::string> listing(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) out.push_back(fs::relative(e.path(), dir).string());
  std::sort(out.begin(), out.end());
  return out;
}

std::string python(const std::string& code) {
  const auto r = run_command("/usr/bin/python3 -c '" + code + "'");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return r.output;
}

// Inputs shared by the failing commands: datasets good and bad, a checkpoint, model files.
struct Inputs {
  std::string dir, data, ckpt, ts;
};

const Inputs& inputs() {
  static const Inputs in = [] {
    Inputs i;
    // One set per test process: ctest runs the tests of this file in parallel processes.
    i.dir = glassbox::testing::scratch_dir("safety-inputs-" + std::to_string(::getpid()));
    i.data = make_dataset(i.dir + "/data");
    // A Latin-1 classes.txt: it failed only when the checkpoint was written, after a whole epoch.
    make_dataset(i.dir + "/latin1");
    std::ofstream(i.dir + "/latin1/classes.txt") << "caf\xe9\nna\xefve\nthird\n";
    // One stray label 255 without classes.txt: it silently made a 256-class model.
    make_dataset(i.dir + "/stray");
    std::vector<uint8_t> labels;
    for (int k = 0; k < 48; ++k) labels.push_back(static_cast<uint8_t>(k % 3));
    labels[17] = 255;
    write_bytes(i.dir + "/stray/train-labels-idx1-ubyte", idx_labels(labels));
    // A 1 MB .gz whose header declares 48 8x8 images but which goes on for 300 MB.
    make_dataset(i.dir + "/bomb");
    fs::remove(i.dir + "/bomb/train-images-idx3-ubyte");
    python("import gzip, struct; f = gzip.open(\"" + i.dir + "/bomb/train-images-idx3-ubyte.gz\", \"wb\"); "
           "f.write(struct.pack(\">IIII\", 0x803, 48, 8, 8)); z = bytes(1 << 20); [f.write(z) for _ in range(300)]; f.close()");
    // A checkpoint, and a damaged copy.
    const auto r = run_command(kCli + " train --data " + i.data + " --model mlp --hidden 8 --epochs 1 --quiet --logdir " +
                               i.dir + "/run");
    EXPECT_EQ(r.exit_code, 0) << r.output;
    i.ckpt = i.dir + "/run/checkpoints/last.ckpt";
    std::string bytes = glassbox::testing::read_all(i.ckpt);
    bytes[bytes.size() / 2] ^= 0x40;
    std::ofstream(i.dir + "/damaged.ckpt", std::ios::binary) << bytes;
    // A TorchScript module for 1x8x8 inputs, and one whose data.pkl lost a byte (zip rewritten valid).
    python("import torch, zipfile; torch.manual_seed(0); "
           "m = torch.jit.script(torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 3))); m.save(\"" +
           i.dir + "/m.pt\"); z = zipfile.ZipFile(\"" + i.dir + "/m.pt\"); w = zipfile.ZipFile(\"" + i.dir +
           "/cut.pt\", \"w\"); [w.writestr(n, z.read(n)[:20] + z.read(n)[21:] if n.endswith(\"data.pkl\") else z.read(n)) "
           "for n in z.namelist()]; w.close()");
    i.ts = i.dir + "/m.pt";
    std::ofstream(i.dir + "/text.png") << "this is not a picture\n";
    // 69 bytes whose header claims a 65535 x 65535 picture.
    python("import struct, zlib; c = lambda t, d: struct.pack(\">I\", len(d)) + t + d + struct.pack(\">I\", "
           "zlib.crc32(t + d)); open(\"" + i.dir + "/huge.png\", \"wb\").write(b\"\\x89PNG\\r\\n\\x1a\\n\" + "
           "c(b\"IHDR\", struct.pack(\">IIBBBBB\", 65535, 65535, 8, 2, 0, 0, 0)) + c(b\"IDAT\", bytes(8)) + c(b\"IEND\", b\"\"))");
    return i;
  }();
  return in;
}

struct FailingCase {
  std::string args;
  std::vector<std::string> fragments;
};

}  // namespace

TEST(CliSafety, FailingCommandsNameTheirFlagOrFileAndLeaveNothingBehind) {
  const Inputs& in = inputs();
  const std::string nowhere = "/nonexistent-glassbox-" + std::to_string(::getpid());
  const std::string data = " --data " + in.data, ck = " --checkpoint " + in.ckpt, ts = " --torchscript " + in.ts;
  const std::string train = "train --logdir run --quiet" + data;
  const std::vector<FailingCase> cases = {
      // train: every numeric flag overflowing, negative, non-finite, out of range
      {train + " --epochs 99999999999999999999", {"--epochs 99999999999999999999", "1..1000000"}},
      {train + " --epochs 0", {"--epochs 0"}},
      {train + " --epochs 010x", {"--epochs 010x"}},
      {train + " --seed -1", {"--seed -1"}},
      {train + " --seed 18446744073709551616", {"--seed 18446744073709551616"}},
      {train + " --threads 100000", {"--threads 100000"}},
      {train + " --threads -2", {"--threads -2"}},
      {train + " --lr nan", {"--lr nan"}},
      {train + " --lr inf", {"--lr inf"}},
      {train + " --lr 0", {"--lr 0"}},
      {train + " --momentum 1", {"--momentum 1"}},
      {train + " --batch-size 0", {"--batch-size 0"}},
      {train + " --hidden 0", {"--hidden 0"}},
      {train + " --conv-channels 99999", {"--conv-channels 99999"}},
      {train + " --log-every-n-steps 0", {"--log-every-n-steps 0"}},
      {train + " --train-size 48", {"--train-size 48"}},
      {train + " --model resnet", {"--model", "resnet"}},
      {train + " --optimizer lbfgs", {"--optimizer", "lbfgs"}},
      {train + " --device tpu", {"--device tpu"}},
      {train + " --device cuda:1", {"--device cuda:1"}},
      {train + " --callbacks gradcam", {"--callbacks gradcam"}},
      {"train --quiet" + data + " --callbacks confused", {"--callbacks", "--logdir"}},
      {train + " --callbacks attribution --attribution-method x", {"--attribution-method x"}},
      {train + " --callbacks confused --projection-factor nan", {"--projection-factor nan"}},
      {train + " --callbacks confused --confused-min-logit inf", {"--confused-min-logit inf"}},
      {train + " --callbacks confused --confused-max-diff -1", {"--confused-max-diff -1"}},
      {train + " --callbacks morph --morph-steps 0", {"--morph-steps 0"}},
      {train + " --callbacks attribution --probes 0", {"--probes 0"}},
      {train + " --summary-json " + nowhere + "/x.json", {"--summary-json", nowhere, "does not exist"}},
      {train + " --summary-json s.txt", {"--summary-json s.txt", ".json"}},
      {train + " --summary-json s.json --epochs 0", {"--epochs 0"}},
      // train: data and checkpoints that fail only once read
      {"train --logdir run --quiet --data " + in.dir + "/missing", {in.dir + "/missing"}},
      {"train --logdir run --quiet --data " + in.dir + "/latin1", {"classes.txt", "not UTF-8"}},
      {"train --logdir run --quiet --data " + in.dir + "/stray", {"train-labels-idx1-ubyte", "largest label is 255", "index 17"}},
      {"train --logdir run --quiet --data " + in.dir + "/bomb", {"train-images-idx3-ubyte.gz", "more data than its header"}},
      {train + " --resume " + in.dir + "/damaged.ckpt", {"damaged.ckpt"}},
      {train + " --epochs 1 --resume " + in.ckpt, {"--resume", "already trained 1 epochs"}},
      // explain
      {"explain --out x.png" + ck + data + " --n-steps 100000 --method ig", {"--n-steps 100000", "1..4096"}},
      {"explain --out x.png" + ck + data + " --method occlusion --stride 9223372036854775807",
       {"--stride 9223372036854775807"}},
      {"explain --out x.png" + ck + data + " --method occlusion --window 0", {"--window 0"}},
      {"explain --out x.png" + ck + data + " --method ig --ig-method riemann_trapezoid --n-steps 1", {"--n-steps 1"}},
      {"explain --out x.png" + ck + data + " --target 99", {"--target 99", "out of range"}},
      {"explain --out x.png" + ck + data + " --target two", {"--target two"}},
      {"explain --out x.png" + ck + data + " --index -1", {"--index -1"}},
      {"explain --out x.png" + ck + data + " --index 48", {"--index 48", "48 samples"}},
      {"explain --out x.png" + ck + data + " --method gradcam2", {"--method gradcam2", "expected one of"}},
      {"explain --out x.png" + ck + data + " --method gradcam", {"--method gradcam", "no layer that reads as a map"}},
      {"explain --out x.png" + ck + data + " --stdevs nan --method smoothgrad", {"--stdevs nan"}},
      {"explain --out x.png" + ck + data + " --threads 100000", {"--threads 100000"}},
      {"explain --out sub/x.png" + ck + data, {"--out sub/x.png", "does not exist"}},
      {"explain --out x.jpg" + ck + data, {"--out x.jpg", ".png"}},
      {"explain --out x.png --save-tensor sub/a.pt" + ck + data, {"--save-tensor sub/a.pt"}},
      {"explain --out x.png --checkpoint " + in.dir + "/damaged.ckpt" + data, {"damaged.ckpt"}},
      {"explain --out x.png --torchscript " + in.dir + "/cut.pt" + data, {"cut.pt"}},
      {"explain --out x.png --checkpoint " + in.ts + data, {"m.pt", "not a glassbox checkpoint"}},
      {"explain --out x.png" + ts + data + " --normalize nan,1", {"--normalize nan,1"}},
      {"explain --out x.png" + ts + data + " --normalize 0.5,0", {"--normalize 0.5,0", "std"}},
      {"explain --out x.png" + ck + data + " --image " + in.dir + "/text.png", {"text.png", "not a PNG"}},
      {"explain --out x.png" + ck + data + " --image " + in.dir + "/huge.png", {"huge.png", "more than the limit"}},
      // morph and confused
      {"morph --out m.gif" + ck + data + " --target 1 --steps 0", {"--steps 0"}},
      {"morph --out m.gif" + ck + data + " --target 1 --step-size nan", {"--step-size nan"}},
      {"morph --out m.gif" + ck + data + " --target 1 --stop-probability 2", {"--stop-probability 2"}},
      {"morph --out m.gif" + ck + data + " --target 7", {"--target 7", "out of range"}},
      {"morph --out m.txt" + ck + data + " --target 1", {"--out m.txt"}},
      {"confused --out conf" + ck + data + " --top -1", {"--top -1"}},
      {"confused --out conf --checkpoint " + in.dir + "/damaged.ckpt" + data, {"damaged.ckpt"}},
      {"confused --out conf" + ck + " --data " + in.dir + "/stray --split train", {"largest label is 255"}},
      // events
      {"events " + in.dir + "/nothing-here", {"nothing-here"}},
      {"events " + in.dir + "/run --dump d", {"--dump", "--tag"}},
      {"events " + in.dir + "/run --tag nosuch --dump d", {"--tag nosuch", "no images"}},
  };
  int i = 0;
  for (const FailingCase& c : cases) {
    SCOPED_TRACE(c.args);
    const std::string work = glassbox::testing::scratch_dir("safety-fail/" + std::to_string(i++));
    const auto r = run_command("cd " + work + " && timeout 60 " + kCli + " " + c.args);
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
    EXPECT_EQ(r.output.rfind("glassbox: error: ", 0), 0u) << r.output;
    EXPECT_GT(r.output.size(), std::string("glassbox: error: \n").size()) << "an empty error line";
    for (const auto& f : c.fragments) EXPECT_NE(r.output.find(f), std::string::npos) << r.output << " lacks " << f;
    EXPECT_TRUE(listing(work).empty()) << "left behind: " << listing(work).front();
  }
  EXPECT_FALSE(fs::exists(nowhere)) << "a file argument's parent was created";
}

TEST(CliSafety, NothingIsWrittenThroughASymbolicLink) {
  const Inputs& in = inputs();
  const std::string dir = glassbox::testing::scratch_dir("safety-symlinks");
  const std::string victim = dir + "/victim.txt";
  auto train = [&](const std::string& logdir, const std::string& extra) {
    return run_command(kCli + " train --quiet --model mlp --hidden 8 --data " + in.data + " --logdir " + logdir + " " + extra);
  };
  // metrics.csv planted as a link to where a victim would be created, and to an existing victim.
  fs::create_directories(dir + "/a");
  fs::create_symlink(victim, dir + "/a/metrics.csv");
  auto r = train(dir + "/a", "");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("metrics.csv"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(victim));
  std::ofstream(victim) << "precious\n";
  fs::create_directories(dir + "/b");
  fs::create_symlink(victim, dir + "/b/metrics.csv");
  EXPECT_EQ(train(dir + "/b", "").exit_code, 2);
  EXPECT_EQ(glassbox::testing::read_all(victim), "precious\n");
  // The lock file.
  fs::create_directories(dir + "/c");
  fs::create_symlink(dir + "/other", dir + "/c/.glassbox-run.lock");
  r = train(dir + "/c", "");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_FALSE(fs::exists(dir + "/other"));
  // A figure folder when figures go to files.
  fs::create_directories(dir + "/d/figures");
  fs::create_directories(dir + "/other2");
  fs::create_symlink(dir + "/other2", dir + "/d/figures/confusing_imgs_image_0");
  r = train(dir + "/d", "--no-tensorboard --callbacks confused --confused-interval 1 --confused-min-logit -1e9 --confused-max-diff 1e9");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("confusing_imgs_image_0"), std::string::npos) << r.output;
  EXPECT_TRUE(fs::is_empty(dir + "/other2"));
  // The checkpoints folder planted as a link to a directory.
  fs::create_directories(dir + "/f");
  fs::create_directories(dir + "/other3");
  fs::create_directory_symlink(dir + "/other3", dir + "/f/checkpoints");
  r = train(dir + "/f", "");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("checkpoints: a symbolic link"), std::string::npos) << r.output;
  EXPECT_TRUE(fs::is_empty(dir + "/other3"));
  // The lock file planted as a hard link to a file: the holder's name would overwrite it.
  fs::create_directories(dir + "/g");
  std::ofstream(dir + "/linked.txt") << "precious\n";
  fs::create_hard_link(dir + "/linked.txt", dir + "/g/.glassbox-run.lock");
  r = train(dir + "/g", "");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find(".glassbox-run.lock is not a plain file of its own (2 names)"), std::string::npos) << r.output;
  EXPECT_EQ(glassbox::testing::read_all(dir + "/linked.txt"), "precious\n");
  // Whole files (summary, figures) are written beside and renamed: a link is replaced, not followed.
  fs::create_symlink(victim, dir + "/s.json");
  fs::create_symlink(victim, dir + "/x.png");
  EXPECT_EQ(train(dir + "/e", "--summary-json " + dir + "/s.json").exit_code, 0);
  EXPECT_EQ(run_command(kCli + " explain --checkpoint " + in.ckpt + " --data " + in.data + " --out " + dir + "/x.png").exit_code, 0);
  EXPECT_EQ(glassbox::testing::read_all(victim), "precious\n");
  EXPECT_FALSE(fs::is_symlink(dir + "/s.json"));
}

TEST(CliSafety, OneRunPerLogdir) {
  const Inputs& in = inputs();
  const std::string dir = glassbox::testing::scratch_dir("safety-concurrent");
  const std::string data = make_dataset(dir + "/data", 3000);
  // Four runs into one logdir at once: one trains, the others stop with one line naming the holder.
  std::vector<std::thread> threads;
  std::vector<glassbox::testing::CommandResult> results(4);
  for (int k = 0; k < 4; ++k)
    threads.emplace_back([&, k] {
      results[k] = run_command(kCli + " train --quiet --model mlp --hidden 32 --epochs 3 --seed " + std::to_string(k) +
                               " --data " + data + " --logdir " + dir + "/run");
    });
  for (auto& t : threads) t.join();
  int winners = 0;
  for (const auto& r : results) {
    if (r.exit_code == 0) {
      ++winners;
      continue;
    }
    EXPECT_EQ(r.exit_code, 2) << r.output;
    // "in use by glassbox run pid N ..." (or, if the holder has not yet written who it is, "by another
    // glassbox run"), or, once the winner is done, "holds an earlier run".
    EXPECT_TRUE(r.output.find("in use by ") != std::string::npos ||
                r.output.find("holds an earlier run") != std::string::npos)
        << r.output;
  }
  EXPECT_EQ(winners, 1);
  // One run's metrics, whole: a header and 3-field rows with non-decreasing steps.
  std::istringstream csv(glassbox::testing::read_all(dir + "/run/metrics.csv"));
  std::string line;
  std::getline(csv, line);
  EXPECT_EQ(line, "step,name,value");
  long long last = 0, epochs = 0;
  while (std::getline(csv, line)) {
    EXPECT_EQ(std::count(line.begin(), line.end(), ','), 2) << line;
    const long long step = std::stoll(line);
    EXPECT_GE(step, last) << line;
    last = step;
    epochs += line.find(",epoch,") != std::string::npos;
  }
  EXPECT_EQ(epochs, 3);
  EXPECT_EQ(glassbox::models::CheckpointFile(dir + "/run/checkpoints/last.ckpt").meta().global_step, last);
  // A run that stopped before its first checkpoint can be neither resumed nor continued: the message
  // says how to start over.
  fs::create_directories(dir + "/cut");
  std::ofstream(dir + "/cut/metrics.csv") << "step,name,value\n";
  const auto cut = run_command(kCli + " train --quiet --model mlp --hidden 8 --data " + data + " --logdir " + dir + "/cut");
  EXPECT_EQ(cut.exit_code, 2) << cut.output;
  EXPECT_NE(cut.output.find("stopped before its first checkpoint, so it cannot be resumed; delete that directory to start over"),
            std::string::npos)
      << cut.output;
  (void)in;
}

TEST(CliSafety, ResumeAppendsMetricsAndDropsRowsAfterTheCheckpoint) {
  const Inputs& in = inputs();
  const std::string dir = glassbox::testing::scratch_dir("safety-resume");
  const std::string run = dir + "/run", common = kCli + " train --quiet --model mlp --hidden 8 --data " + in.data +
                                                 " --logdir " + run;
  ASSERT_EQ(run_command(common + " --epochs 1").exit_code, 0);
  fs::copy_file(run + "/checkpoints/last.ckpt", dir + "/epoch1.ckpt");
  ASSERT_EQ(run_command(common + " --epochs 2 --resume " + run + "/checkpoints/last.ckpt").exit_code, 0);
  // Back to epoch 1 in the same logdir: epoch 2's rows belonged to a run that is being replaced.
  ASSERT_EQ(run_command(common + " --epochs 3 --resume " + dir + "/epoch1.ckpt").exit_code, 0);
  std::istringstream csv(glassbox::testing::read_all(run + "/metrics.csv"));
  std::string line;
  std::vector<std::string> epochs;
  int headers = 0;
  long long last = 0;
  while (std::getline(csv, line)) {
    if (line == "step,name,value") {
      ++headers;
      continue;
    }
    const long long step = std::stoll(line);
    EXPECT_GE(step, last) << line;
    last = step;
    if (line.find(",epoch,") != std::string::npos) epochs.push_back(line.substr(line.rfind(',') + 1));
  }
  EXPECT_EQ(headers, 1);
  EXPECT_EQ(epochs, (std::vector<std::string>{"0", "1", "2"}));
}

TEST(CliSafety, EventsJsonKeepsNonFiniteScalarsAndOddTags) {
  const std::string dir = glassbox::testing::scratch_dir("safety-events");
  {
    glassbox::tensorboard::SummaryWriter w(dir);
    w.add_scalar("loss", std::nan(""), 1);
    w.add_scalar("loss", INFINITY, 2);
    w.add_scalar("loss", -INFINITY, 3);
    w.add_scalar("loss", 0.5, 4);
    w.add_scalar("caf\xe9/\x01odd", 1.0, 1);  // Latin-1 and a control character in a tag
  }
  auto r = run_command(kCli + " events " + dir + " --json --tag loss 2>/dev/null");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const nlohmann::json values = nlohmann::json::parse(r.output);
  ASSERT_EQ(values.size(), 4u);
  EXPECT_EQ(values[0]["value"], "NaN");
  EXPECT_EQ(values[1]["value"], "Infinity");
  EXPECT_EQ(values[2]["value"], "-Infinity");
  EXPECT_EQ(values[3]["value"], 0.5);
  r = run_command(kCli + " events " + dir + " --json 2>/dev/null");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NO_THROW(nlohmann::json::parse(r.output));
  r = run_command(kCli + " events " + dir);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.find('\x01'), std::string::npos) << "a control character reached the terminal";
}

TEST(CliSafety, AllocationBombsStayBounded) {
  const Inputs& in = inputs();
  const std::string dir = glassbox::testing::scratch_dir("safety-bombs");
  // Peak resident memory of a command, in MB, from GNU time.
  auto peak_mb = [&](const std::string& args) {
    const auto r = run_command("/usr/bin/time -f 'peak %M' " + kCli + " " + args + " 2>&1");
    const size_t at = r.output.rfind("peak ");
    EXPECT_NE(at, std::string::npos) << r.output;
    return at == std::string::npos ? 1e9 : std::stod(r.output.substr(at + 5)) / 1024;
  };
  const double baseline = peak_mb("explain --checkpoint " + in.ckpt + " --data " + in.data + " --out " + dir + "/ok.png");
  // The .gz IDX that inflated to 2.3 GB: stopped one byte past what its header declares.
  EXPECT_LT(peak_mb("train --quiet --data " + in.dir + "/bomb"), baseline + 64);
  // The PNG header claiming 65535 x 65535.
  EXPECT_LT(peak_mb("explain --checkpoint " + in.ckpt + " --data " + in.data + " --image " + in.dir + "/huge.png --out " +
                    dir + "/x.png"),
            baseline + 64);
  // A gzipped event file is read as it is (TensorBoard does not inflate them either): its records are
  // reported as damage, and a 1 MB file costs 1 MB.
  python("import gzip; f = gzip.open(\"" + dir + "/events.out.tfevents.1.x.gz\", \"wb\"); z = bytes(1 << 20); "
         "[f.write(z) for _ in range(300)]; f.close()");
  const auto r = run_command(kCli + " events " + dir + "/events.out.tfevents.1.x.gz");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("damaged"), std::string::npos) << r.output;
  EXPECT_LT(peak_mb("events " + dir + "/events.out.tfevents.1.x.gz"), baseline + 64);
}

TEST(CliSafety, DamagedModelFilesAreOneLineErrors) {
  const Inputs& in = inputs();
  // A data.pkl that lost a byte (the zip rewritten valid around it) crashed libtorch's unpickler in
  // glassbox's process; the checking child now takes the crash.
  const std::string dir = glassbox::testing::scratch_dir("safety-damaged");
  const auto r = run_command(kCli + " explain --torchscript " + in.dir + "/cut.pt --data " + in.data + " --out " + dir +
                             "/x.png");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
  EXPECT_NE(r.output.find("cut.pt: "), std::string::npos) << r.output;
}

// Model files that are programs acting on the machine (made by tests/hostile_models.py): a __setstate__
// that creates a file while loading, a forward that reads one, a code file nested 100,000 deep. As a
// TorchScript module and as a checkpoint, each is one line, exit 2, and the target is never created.
TEST(CliSafety, ModelFilesThatActOnTheMachineAreContained) {
  const std::string dir = glassbox::testing::scratch_dir("cli-hostile-models");
  const std::string target = dir + "/victim";
  auto r = run_command("/usr/bin/python3 " GLASSBOX_SOURCE_DIR "/tests/hostile_models.py " + dir + " " + target);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ASSERT_FALSE(fs::exists(target));
  auto expect_refused = [&](const std::string& command, const std::string& file, const std::string& says) {
    SCOPED_TRACE(command);
    const auto result = run_command(command + " 2>&1");
    EXPECT_EQ(result.exit_code, 2) << result.output;
    EXPECT_EQ(std::count(result.output.begin(), result.output.end(), '\n'), 1) << result.output;
    EXPECT_EQ(result.output.rfind("glassbox: error: ", 0), 0u) << result.output;
    EXPECT_NE(result.output.find(file), std::string::npos) << result.output;
    EXPECT_NE(result.output.find(says), std::string::npos) << result.output;
    EXPECT_FALSE(fs::exists(target)) << "the model created " << target;
  };
  for (const std::string flag : {"--torchscript", "--checkpoint"}) {
    const std::string shape = flag == "--torchscript" ? " --input-shape 1,4,4" : "";
    expect_refused(kCli + " layers " + flag + " " + dir + "/setstate-writes.pt" + shape, "setstate-writes.pt", "");
    expect_refused(kCli + " layers " + flag + " " + dir + "/deep-nesting.pt" + shape, "deep-nesting.pt", "");
  }
  // Reading: the sandbox allows it, the check of the module's operations does not.
  { std::ofstream(target) << "secret"; }
  r = run_command(kCli + " layers --torchscript " + dir + "/forward-reads.pt --input-shape 1,4,4 2>&1");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("uses aten::from_file, which reaches files"), std::string::npos) << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
  fs::remove(target);
  // A forward that ends on zeros and never on anything else is stopped within the check's limit.
  const auto start = std::chrono::steady_clock::now();
  expect_refused(kCli + " layers --torchscript " + dir + "/loops-on-data.pt --input-shape 1,4,4 --check-timeout 3",
                 "loops-on-data.pt", "did not finish within 3 s");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
  // A forward that passes the check (zeros, random inputs) and never ends on a real input normalised past
  // 100: stopped by --forward-timeout, one line, nothing written; the same model ends on the plain input.
  const std::string explain = kCli + " explain --torchscript " + dir + "/loops-on-bright.pt --data " + inputs().data +
                              " --forward-timeout 3 --out " + dir + "/bright.png";
  const auto before_bright = std::chrono::steady_clock::now();
  r = run_command(explain + " --normalize 0,0.001 2>&1");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
  EXPECT_NE(r.output.find("loops-on-bright.pt: forward did not finish within 3 s"), std::string::npos) << r.output;
  EXPECT_LT(std::chrono::steady_clock::now() - before_bright, std::chrono::seconds(30));
  EXPECT_FALSE(fs::exists(dir + "/bright.png"));
  r = run_command(explain + " 2>&1");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(fs::exists(dir + "/bright.png"));
  // What a model prints or warns reaches the terminal escaped: no ESC, BEL or 8-bit CSI gets through.
  r = run_command(kCli + " layers --torchscript " + dir + "/prints-escapes.pt --input-shape 1,4,4 2>&1");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("glassbox: model prints: \\x1B]0;owned\\x07\\x1B[2J\\xC2\\x9B31m"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("glassbox: warning while running the model: \\x1B]0;warned\\x07"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find_first_of("\x1b\x07"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("\xc2\x9b"), std::string::npos) << r.output;
}
