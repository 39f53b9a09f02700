// Checkpoints: round trip, rebuilding from the file alone, the data-only format read by an independent
// reader (Python, by the safetensors specification), damaged and hostile files as one-line errors, atomic
// writes, earlier formats (glassbox 0.1's and the sealed zip) still read, through the contained process.
#include <gtest/gtest.h>
#include <torch/optim/adam.h>
#include <torch/serialize.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>

#include "glassbox/models/checkpoint-format.h"
#include "glassbox/models/checkpoint-seal.h"
#include "glassbox/models/checkpoint.h"
#include "glassbox/util/error.h"
#include "glassbox/util/file-bytes.h"
#include "glassbox/util/sha256.h"
#include "glassbox/util/zip-archive.h"
#include "test-support.h"

using namespace glassbox::models;
namespace fs = std::filesystem;

namespace {

CheckpointMeta meta_for(const ModuleClassifier& m) {
  CheckpointMeta meta;
  meta.model = m.options();
  for (int c = 0; c < m.num_classes(); ++c) meta.class_names.push_back("class" + std::to_string(c));
  meta.normalization = {{0.25, 0.5, 0.75}, {0.1, 0.2, 0.3}};
  meta.normalization.mean.resize(static_cast<size_t>(m.input_shape().channels));
  meta.normalization.std.resize(static_cast<size_t>(m.input_shape().channels));
  meta.epoch = 3;
  meta.global_step = 1234;
  meta.metrics = {{"val_loss", 0.5}, {"val_acc", 0.875}};
  meta.optimizer = "adam";
  meta.learning_rate = 0.005;
  meta.seed = 9;
  return meta;
}

// glassbox 0.1's checkpoint: the weights and a metadata string inside the pickle, no digests.
std::string legacy_checkpoint(ModuleClassifier& model, const std::string& meta_json) {
  torch::serialize::OutputArchive archive;
  model.module().save(archive);
  archive.write("glassbox_meta", c10::IValue(meta_json));
  std::string bytes;
  archive.save_to([&bytes](const void* data, size_t size) -> size_t {
    bytes.append(static_cast<const char*>(data), size);
    return size;
  });
  return bytes;
}

std::string legacy_meta_json(const std::string& input_shape, int64_t classes, const std::string& format_value) {
  std::string names = "[";
  for (int64_t c = 0; c < classes && c < 20; ++c) names += (c ? ",\"" : "\"") + std::to_string(c) + "\"";
  names += "]";
  return "{\"format\":" + format_value + ",\"architecture\":\"logreg\",\"input_shape\":" + input_shape +
         ",\"num_classes\":" + std::to_string(classes) + ",\"hidden\":256,\"conv_channels\":32,\"class_names\":" + names +
         ",\"normalization\":{\"mean\":[],\"std\":[]},\"epoch\":1,\"global_step\":10,\"metrics\":{},"
         "\"optimizer\":\"adam\",\"learning_rate\":0.005,\"seed\":0}";
}

void write(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string error_of(const std::function<void()>& f) { return glassbox::testing::error_message_of<glassbox::Error>(f); }

}  // namespace

TEST(Checkpoint, RoundTripRebuildsTheModelFromTheFileAlone) {
  const std::string dir = glassbox::testing::scratch_dir("ckpt-roundtrip");
  auto model = make_model(ModelOptions("cnn", {3, 12, 12}, 5).hidden(32).conv_channels(4));
  torch::optim::Adam adam(model->parameters(), torch::optim::AdamOptions(0.01));
  const at::Tensor x = at::rand({4, 3, 12, 12});
  const CheckpointMeta meta = meta_for(*model);
  save_checkpoint(dir + "/m.ckpt", *model, &adam, meta);

  Checkpoint back = load_checkpoint(dir + "/m.ckpt");
  EXPECT_EQ(back.meta.model.architecture(), "cnn");
  EXPECT_EQ(back.meta.model.shape().channels, 3);
  EXPECT_EQ(back.meta.model.hidden(), 32);
  EXPECT_EQ(back.meta.model.conv_channels(), 4);
  EXPECT_EQ(back.meta.class_names[4], "class4");
  EXPECT_EQ(back.meta.normalization.std[2], 0.3);
  EXPECT_EQ(back.meta.epoch, 3);
  EXPECT_EQ(back.meta.global_step, 1234);
  EXPECT_EQ(back.meta.metrics.at("val_acc"), 0.875);
  EXPECT_EQ(back.meta.seed, 9u);
  model->train(false);
  back.model->train(false);
  EXPECT_TRUE(at::equal(model->forward(x), back.model->forward(x)));
  EXPECT_FALSE(CheckpointFile(dir + "/m.ckpt").converted());
  // Nothing temporary left behind.
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir)) files += e.is_regular_file();
  EXPECT_EQ(files, 1);
}

TEST(Checkpoint, PythonReadsTheFileBySafetensorsSpecification) {
  // An independent reader (Python's struct, json and hashlib, following the safetensors format and the
  // digest checkpoint-format.h documents) reads every tensor; its sums are the model's.
  const std::string dir = glassbox::testing::scratch_dir("ckpt-python");
  auto model = make_model(ModelOptions("mlp", {1, 8, 8}, 4).hidden(16));
  torch::optim::Adam adam(model->parameters(), torch::optim::AdamOptions(0.01));
  adam.zero_grad();
  model->forward(at::rand({2, 1, 8, 8})).sum().backward();
  adam.step();
  save_checkpoint(dir + "/m.ckpt", *model, &adam, meta_for(*model));
  const std::string script = dir + "/check.py";
  write(script, R"(import hashlib, json, struct, sys
data = open(sys.argv[1], "rb").read()
n, = struct.unpack("<Q", data[:8])
header = json.loads(data[8:8 + n])
body = data[8 + n:]
meta = header.pop("__metadata__")
assert sorted(meta) == ["format", "glassbox", "optimizer", "sha256"], sorted(meta)
assert meta["format"] == "glassbox-checkpoint-3"
glassbox = json.loads(meta["glassbox"])
assert glassbox["model"]["architecture"] == "mlp" and glassbox["model"]["hidden"] == 16
tensors = sorted(header.items(), key=lambda kv: kv[1]["data_offsets"])
at = 0
index = []
for name, t in tensors:
    begin, end = t["data_offsets"]
    assert begin == at, name
    count = 1
    for d in t["shape"]: count *= d
    assert t["dtype"] == "F32" and end - begin == 4 * count, name
    index.append([name, t["dtype"], t["shape"], begin, end])
    at = end
assert at == len(body)
assert hashlib.sha256(json.dumps(index, separators=(",", ":")).encode() + b"\0" + b"".join(meta[k].encode() + b"\0" for k in ("format", "glassbox", "optimizer")) + body).hexdigest() == meta["sha256"]
for name, t in tensors:
    begin, end = t["data_offsets"]
    values = struct.unpack("<%df" % ((end - begin) // 4), body[begin:end])
    print(name, repr(sum(values)))
)");
  const auto r = glassbox::testing::run_command("/usr/bin/python3 " + script + " " + dir + "/m.ckpt");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::map<std::string, double> sums;
  std::istringstream lines(r.output);
  for (std::string name, value; lines >> name >> value;) sums[name] = std::stod(value);
  size_t checked = 0;
  for (const auto& p : model->module().named_parameters(true)) {
    ASSERT_EQ(sums.count("model." + p.key()), 1u) << p.key() << "\n" << r.output;
    EXPECT_NEAR(sums["model." + p.key()], p.value().sum().item<double>(), 1e-4) << p.key();
    ++checked;
  }
  EXPECT_EQ(checked, 4u);  // fc1 and fc2, weight and bias
  // Adam's moments, one pair per parameter.
  EXPECT_EQ(sums.size(), checked * 3) << r.output;
}

TEST(Checkpoint, OptimizerStateRoundTrips) {
  const std::string dir = glassbox::testing::scratch_dir("ckpt-optim");
  auto model = make_model(ModelOptions("logreg", {1, 4, 4}, 3));
  torch::optim::Adam adam(model->parameters(), torch::optim::AdamOptions(0.01));
  for (int i = 0; i < 3; ++i) {
    adam.zero_grad();
    model->forward(at::rand({2, 1, 4, 4})).sum().backward();
    adam.step();
  }
  save_checkpoint(dir + "/m.ckpt", *model, &adam, meta_for(*model));
  const CheckpointFile file(dir + "/m.ckpt");
  auto back = file.make_model();
  torch::optim::Adam adam2(back->parameters(), torch::optim::AdamOptions(0.01));
  ASSERT_TRUE(file.has_optimizer_state());
  file.load_optimizer_state(adam2);
  // One more identical step on both gives identical weights only if the moments came back.
  const at::Tensor x = at::rand({2, 1, 4, 4});
  for (auto* pair : {&adam, &adam2}) pair->zero_grad();
  model->forward(x).sum().backward();
  back->forward(x).sum().backward();
  adam.step();
  adam2.step();
  EXPECT_TRUE(at::equal(model->parameters()[0], back->parameters()[0]));
}

TEST(Checkpoint, EveryFlippedBitAndTruncationIsRefusedBeforeLibtorchReadsIt) {
  // Every one-bit flip, at every offset, is an error naming the file, found by the header's checks or
  // the digest.
  const std::string dir = glassbox::testing::scratch_dir("ckpt-flips");
  auto model = make_model(ModelOptions("logreg", {1, 4, 4}, 3));
  torch::optim::Adam adam(model->parameters(), torch::optim::AdamOptions(0.01));
  save_checkpoint(dir + "/good.ckpt", *model, &adam, meta_for(*model));
  const std::string good = glassbox::read_file(dir + "/good.ckpt");
  size_t refused = 0;
  for (size_t i = 0; i < good.size(); ++i) {
    std::string bad = good;
    bad[i] = static_cast<char>(bad[i] ^ (1 << (i % 8)));
    const std::string what = error_of([&] { decode_checkpoint(bad, "flipped.ckpt"); });
    EXPECT_EQ(what.rfind("flipped.ckpt: ", 0), 0u) << "flip at " << i << ": " << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    refused += !what.empty();
  }
  EXPECT_EQ(refused, good.size());
  for (size_t n : {size_t(0), size_t(1), size_t(21), good.size() / 2, good.size() - 1}) {
    const std::string what = error_of([&] { decode_checkpoint(good.substr(0, n), "torn.ckpt"); });
    EXPECT_EQ(what.rfind("torn.ckpt: ", 0), 0u) << n << ": " << what;
  }
  // The file as a whole, through the loader.
  write(dir + "/torn.ckpt", good.substr(0, good.size() / 2));
  EXPECT_NE(error_of([&] { load_checkpoint(dir + "/torn.ckpt"); }).find("torn.ckpt"), std::string::npos);
  EXPECT_NE(error_of([&] { load_checkpoint(dir + "/missing.ckpt"); }).find("no such file"), std::string::npos);
}

// Metadata that lies, in a file whose digest is right (anyone can recompute it): a class count the
// weights do not have, and a step count that would overflow on resume. Both are refused by name.
TEST(Checkpoint, MetadataThatLiesWithAValidDigestIsRefused) {
  const std::string dir = glassbox::testing::scratch_dir("ckpt-lies");
  auto model = make_model(ModelOptions("logreg", {1, 4, 4}, 3));
  save_checkpoint(dir + "/good.ckpt", *model, nullptr, meta_for(*model));
  const std::string good = glassbox::read_file(dir + "/good.ckpt");
  const CheckpointContents contents = decode_checkpoint(good, "good.ckpt");
  auto rewritten = [&](const CheckpointMeta& meta) {
    return encode_checkpoint(meta, contents.optimizer_kind, contents.adam_steps, contents.tensors.tensors);
  };
  CheckpointMeta more_classes = contents.meta;
  more_classes.model.num_classes(5);
  more_classes.class_names = {"a", "b", "c", "d", "e"};
  write(dir + "/classes.ckpt", rewritten(more_classes));
  std::string what = error_of([&] { CheckpointFile(dir + "/classes.ckpt").make_model(); });
  EXPECT_EQ(what.rfind(dir + "/classes.ckpt: ", 0), 0u) << what;
  EXPECT_NE(what.find("its metadata declares a logreg model of 85 parameters"), std::string::npos) << what;
  CheckpointMeta far_step = contents.meta;
  far_step.global_step = std::numeric_limits<int64_t>::max();
  write(dir + "/step.ckpt", rewritten(far_step));
  what = error_of([&] { CheckpointFile(dir + "/step.ckpt"); });
  EXPECT_NE(what.find("step.ckpt"), std::string::npos) << what;
  EXPECT_NE(what.find("global_step"), std::string::npos) << what;
}

TEST(Checkpoint, ForeignAndLegacyFiles) {
  const std::string dir = glassbox::testing::scratch_dir("ckpt-legacy");
  auto model = make_model(ModelOptions("logreg", {1, 4, 4}, 3));
  // glassbox 0.1's format loads (converted in the contained process).
  write(dir + "/v1.ckpt", legacy_checkpoint(*model, legacy_meta_json("[1,4,4]", 3, "\"glassbox-checkpoint-1\"")));
  const CheckpointFile v1(dir + "/v1.ckpt");
  EXPECT_TRUE(v1.converted());
  EXPECT_EQ(v1.meta().model.num_classes(), 3);
  const at::Tensor x = at::rand({2, 1, 4, 4});
  EXPECT_TRUE(at::equal(v1.make_model()->forward(x), model->forward(x)));
  // The sealed zip of glassbox 0.2 to 0.4 loads the same way, and re-saved it is data only.
  write(dir + "/v2.ckpt", seal_checkpoint(legacy_checkpoint(*model, "{}"), v1.meta()));
  const CheckpointFile v2(dir + "/v2.ckpt");
  EXPECT_TRUE(v2.converted());
  EXPECT_TRUE(at::equal(v2.make_model()->forward(x), model->forward(x)));
  v2.save_as(dir + "/v3.ckpt");
  EXPECT_FALSE(CheckpointFile(dir + "/v3.ckpt").converted());
  EXPECT_TRUE(at::equal(CheckpointFile(dir + "/v3.ckpt").make_model()->forward(x), model->forward(x)));
  // Refused outright when the caller reads data only.
  EXPECT_NE(error_of([&] { CheckpointFile(dir + "/v2.ckpt", CheckpointLoadOptions().convert_earlier_formats(false)); })
                .find("an earlier glassbox format"),
            std::string::npos);
  // A libtorch archive that is not a glassbox checkpoint.
  torch::serialize::OutputArchive foreign;
  foreign.write("w", at::ones({2}));
  foreign.save_to(dir + "/foreign.ckpt");
  EXPECT_NE(error_of([&] { load_checkpoint(dir + "/foreign.ckpt"); }).find("not a glassbox checkpoint"), std::string::npos);
  write(dir + "/text.ckpt", "hello");
  EXPECT_NE(error_of([&] { load_checkpoint(dir + "/text.ckpt"); }).find("too short for a safetensors file"), std::string::npos);
}

TEST(Checkpoint, HostileMetadataIsBoundedAndNeverEchoed) {
  const std::string dir = glassbox::testing::scratch_dir("ckpt-hostile");
  auto model = make_model(ModelOptions("logreg", {1, 4, 4}, 3));
  // A 100,000-deep array as the format: this overflowed the stack, and the message dumped it.
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  write(dir + "/deep.ckpt", legacy_checkpoint(*model, legacy_meta_json("[1,4,4]", 3, deep)));
  std::string what = error_of([&] { load_checkpoint(dir + "/deep.ckpt"); });
  EXPECT_NE(what.find("nested deeper than"), std::string::npos) << what.substr(0, 200);
  EXPECT_LT(what.size(), 300u);
  // A long format string is described, not dumped.
  write(dir + "/long.ckpt", legacy_checkpoint(*model, legacy_meta_json("[1,4,4]", 3, "\"" + std::string(5000, 'x') + "\"")));
  what = error_of([&] { load_checkpoint(dir + "/long.ckpt"); });
  EXPECT_NE(what.find("format is string 'xxx"), std::string::npos) << what.substr(0, 200);
  EXPECT_LT(what.size(), 300u);
  // 1,000,000 classes allocated 3.2 GB and exited 0; now refused by range before anything is built.
  write(dir + "/classes.ckpt", legacy_checkpoint(*model, legacy_meta_json("[1,4,4]", 1000000, "\"glassbox-checkpoint-1\"")));
  what = error_of([&] { load_checkpoint(dir + "/classes.ckpt"); });
  EXPECT_NE(what.find("'num_classes' is 1000000, expected 2..100000"), std::string::npos) << what;
  // In range, but more weights than the file holds: refused before the model is allocated.
  write(dir + "/big.ckpt", legacy_checkpoint(*model, legacy_meta_json("[1,4,4]", 90000, "\"glassbox-checkpoint-1\"")));
  what = error_of([&] { load_checkpoint(dir + "/big.ckpt"); });
  EXPECT_NE(what.find("class_names"), std::string::npos) << what;  // 20 names for 90,000 classes
  // input_shape whose product overflows int64.
  write(dir + "/shape.ckpt", legacy_checkpoint(*model, legacy_meta_json("[1,1099511627776,1099511627776]", 3,
                                                                        "\"glassbox-checkpoint-1\"")));
  what = error_of([&] { load_checkpoint(dir + "/shape.ckpt"); });
  EXPECT_NE(what.find("input_shape side 1099511627776"), std::string::npos) << what;
  // Floats where integers belong are not cast (that is undefined behaviour for 1e30).
  write(dir + "/float.ckpt", legacy_checkpoint(*model, legacy_meta_json("[1,4,4]", 3, "\"glassbox-checkpoint-1\"")
                                                           .replace(legacy_meta_json("[1,4,4]", 3, "\"glassbox-checkpoint-1\"")
                                                                        .find("\"epoch\":1"),
                                                                    9, "\"epoch\":1e30")));
  what = error_of([&] { load_checkpoint(dir + "/float.ckpt"); });
  EXPECT_NE(what.find("'epoch' is 1e+30, expected an integer"), std::string::npos) << what;
  // A number JSON cannot hold in a double (found by fuzzing: it escaped as an unexpected exception type).
  std::string overflow = legacy_meta_json("[1,4,4]", 3, "\"glassbox-checkpoint-1\"");
  overflow.replace(overflow.find("\"epoch\":1"), 9, "\"epoch\":1e999");
  write(dir + "/overflow.ckpt", legacy_checkpoint(*model, overflow));
  what = error_of([&] { load_checkpoint(dir + "/overflow.ckpt"); });
  EXPECT_NE(what.find("malformed JSON (a number out of range)"), std::string::npos) << what;
}

TEST(Checkpoint, WeightsDeclaredBeyondTheFileAreRefusedBeforeAllocation) {
  auto model = make_model(ModelOptions("logreg", {1, 4, 4}, 3));
  ModelOptions huge("mlp", {3, 1024, 1024}, 1000);
  huge.hidden(512);
  const std::string what = error_of([&] { check_weights_fit(huge, 1000, "x.ckpt"); });
  EXPECT_NE(what.find("x.ckpt: its metadata declares a mlp model of 1611126248 parameters"), std::string::npos) << what;
  EXPECT_NE(what.find("holds only 1000 bytes"), std::string::npos) << what;
  EXPECT_EQ(parameter_count(ModelOptions("cnn", {1, 28, 28}, 10).hidden(256).conv_channels(32)),
            // conv1 1*32*9+32, conv2 32*64*9+64, fc1 64*7*7*256+256, fc2 256*10+10
            1 * 32 * 9 + 32 + 32 * 64 * 9 + 64 + 64 * 7 * 7 * 256 + 256 + 256 * 10 + 10);
  int64_t counted = 0;
  auto cnn = make_model(ModelOptions("cnn", {3, 20, 12}, 7).hidden(16).conv_channels(5));
  for (const auto& p : cnn->parameters()) counted += p.numel();
  EXPECT_EQ(parameter_count(cnn->options()), counted);
  auto mlp = make_model(ModelOptions("mlp", {2, 5, 3}, 4).hidden(9));
  counted = 0;
  for (const auto& p : mlp->parameters()) counted += p.numel();
  EXPECT_EQ(parameter_count(mlp->options()), counted);
}

TEST(Checkpoint, FailedWriteLeavesTheOldFileWhole) {
  const std::string dir = glassbox::testing::scratch_dir("ckpt-atomic");
  auto model = make_model(ModelOptions("linear", {1, 4, 4}, 3));
  save_checkpoint(dir + "/m.ckpt", *model, nullptr, meta_for(*model));
  const auto size_before = fs::file_size(dir + "/m.ckpt");
  if (geteuid() == 0) {
    // root ignores permissions: make the directory path a file instead, so creating the temp file fails.
    EXPECT_THROW(save_checkpoint(dir + "/m.ckpt/inner.ckpt", *model, nullptr, meta_for(*model)), glassbox::Error);
  } else {
    fs::permissions(dir, fs::perms::owner_read | fs::perms::owner_exec);
    EXPECT_THROW(save_checkpoint(dir + "/m.ckpt", *model, nullptr, meta_for(*model)), glassbox::Error);
    fs::permissions(dir, fs::perms::owner_all);
  }
  EXPECT_EQ(fs::file_size(dir + "/m.ckpt"), size_before);
  EXPECT_NO_THROW(load_checkpoint(dir + "/m.ckpt"));
}
