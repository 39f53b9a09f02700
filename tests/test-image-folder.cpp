// Image folders and CIFAR batches: real fashion-mnist images written out by Pillow as PNG class folders
// train to exactly the weights the same images give from IDX; decoding per batch gives the batches of
// keeping them in memory; CIFAR files written in their format read back; every bad input is one
// error naming the file.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "glassbox/data/load.h"
#include "glassbox/models/architectures.h"
#include "glassbox/train/trainer.h"
#include "glassbox/util/error.h"
#include "test-support.h"

using namespace glassbox;
namespace fs = std::filesystem;

namespace {

const std::string kSkimage = "/usr/lib/python3/dist-packages/skimage/data";

void python(const std::string& dir, const std::string& code) {
  std::ofstream(dir + "/make.py") << "import sys, os, gzip, struct\nfrom PIL import Image\nd = sys.argv[1]\n" << code;
  const auto r = glassbox::testing::run_command("/usr/bin/python3 " + dir + "/make.py " + dir);
  ASSERT_EQ(r.exit_code, 0) << r.output;
}

std::string error_of(const std::function<void()>& f) { return glassbox::testing::error_message_of<glassbox::Error>(f); }

// The first 600 of fashion-mnist's test images, as PNG class folders (ImageFolder order: class by class,
// files by name) and as IDX files in that same order.
std::string fashion_folder_and_idx() {
  static const std::string dir = [] {
    const std::string d = glassbox::testing::scratch_dir("folder-fashion");
    python(d, R"(
images = gzip.open("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz").read()[16:]
labels = gzip.open("/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz").read()[8:]
n = 600
order = sorted(range(n), key=lambda i: (labels[i], i))
os.makedirs(f"{d}/idx", exist_ok=True)
with open(f"{d}/idx/train-images-idx3-ubyte", "wb") as f:
    f.write(struct.pack(">IIII", 0x803, n, 28, 28) + b"".join(images[i * 784:(i + 1) * 784] for i in order))
with open(f"{d}/idx/train-labels-idx1-ubyte", "wb") as f:
    f.write(struct.pack(">II", 0x801, n) + bytes(labels[i] for i in order))
for k, i in enumerate(order):
    os.makedirs(f"{d}/folder/{labels[i]}", exist_ok=True)
    Image.frombytes("L", (28, 28), images[i * 784:(i + 1) * 784]).save(f"{d}/folder/{labels[i]}/{k:05d}.png")
)");
    return d;
  }();
  return dir;
}

std::vector<at::Tensor> train_weights(const data::Dataset& all) {
  const auto parts = data::random_split(all, data::default_train_val_sizes(all.size()), 3);
  torch::manual_seed(3);
  auto model = models::make_model(models::ModelOptions("mlp", {1, 28, 28}, 10).hidden(32));
  train::Trainer(train::TrainerOptions().seed(3).threads(1).batch_size(32).max_epochs(2).quiet(true))
      .fit(*model, {}, parts[0], parts[1]);
  return model->parameters();
}

}  // namespace

TEST(ImageFolder, TrainsToExactlyTheWeightsOfTheSameImagesFromIdx) {
  const std::string dir = fashion_folder_and_idx();
  const data::LoadedDataset folder = data::load_dataset(dir + "/folder", data::Split::train);
  const data::LoadedDataset idx = data::load_dataset(dir + "/idx", data::Split::train);
  EXPECT_EQ(folder.format, data::DataFormat::image_folder);
  EXPECT_EQ(idx.format, data::DataFormat::idx);
  ASSERT_EQ(folder.dataset.size(), 600);
  EXPECT_EQ(folder.dataset.channels(), 1);  // gray PNGs stay gray
  EXPECT_EQ(folder.dataset.class_names().front(), "0");
  EXPECT_TRUE(at::equal(folder.dataset.images(), idx.dataset.images()));
  EXPECT_TRUE(at::equal(folder.dataset.labels(), idx.dataset.labels()));
  const auto a = train_weights(folder.dataset), b = train_weights(idx.dataset);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(at::equal(a[i], b[i])) << "parameter " << i;
}

TEST(ImageFolder, DecodingPerBatchGivesTheBatchesOfKeepingInMemory) {
  const std::string dir = fashion_folder_and_idx();
  const data::Dataset kept = data::load_dataset(dir + "/folder", data::Split::train).dataset;
  const data::Dataset streamed =
      data::load_dataset(dir + "/folder", data::Split::train, data::DatasetOptions().cache_bytes(0).threads(2)).dataset;
  EXPECT_TRUE(kept.in_memory());
  EXPECT_FALSE(streamed.in_memory());
  const at::Tensor positions = at::randperm(600, at::kLong).narrow(0, 0, 64);
  EXPECT_TRUE(at::equal(kept.batch(positions).x, streamed.batch(positions).x));
  EXPECT_TRUE(at::equal(kept.batch(positions).y, streamed.batch(positions).y));
  const auto nk = kept.compute_normalization(), ns = streamed.compute_normalization();
  EXPECT_EQ(nk.mean, ns.mean);
  EXPECT_EQ(nk.std, ns.std);
  // A split view of the streamed set reads the right files.
  const auto parts = data::random_split(streamed, std::vector<int64_t>{500, 100}, 1);
  const auto kept_parts = data::random_split(kept, std::vector<int64_t>{500, 100}, 1);
  EXPECT_TRUE(at::equal(parts[1].batch(0, 100).x, kept_parts[1].batch(0, 100).x));
}

TEST(ImageFolder, PhotographsOfAnySizeWithTrainAndValFolders) {
  const std::string dir = glassbox::testing::scratch_dir("folder-photos");
  for (const char* split : {"train", "val"})
    for (const char* cls : {"animal", "space", "people"}) fs::create_directories(dir + "/" + split + "/" + cls);
  auto copy = [&](const char* from, const std::string& to) { fs::copy_file(kSkimage + "/" + from, dir + "/" + to); };
  copy("chelsea.png", "train/animal/a.png");
  copy("horse.png", "train/animal/b.png");  // RGBA
  copy("rocket.jpg", "train/space/a.jpg");
  copy("hubble_deep_field.jpg", "train/space/b.JPG");  // extensions without case
  copy("astronaut.png", "train/people/a.png");
  copy("coffee.png", "val/animal/x.png");
  copy("retina.jpg", "val/space/x.jpg");
  copy("motorcycle_left.png", "val/people/x.png");
  std::ofstream(dir + "/train/people/notes.txt") << "skipped: not an image name\n";
  // Different sizes and no resize asked: one error that asks for one.
  std::string what = error_of([&] { data::load_dataset(dir, data::Split::train); });
  EXPECT_NE(what.find("a resize and a crop make them one size"), std::string::npos) << what;
  const auto opts = data::DatasetOptions().preprocess(data::Preprocess::imagenet());
  const data::LoadedDataset train = data::load_dataset(dir, data::Split::train, opts);
  const data::LoadedDataset val = data::load_dataset(dir, data::Split::test, opts);
  EXPECT_EQ(train.directory, dir + "/train");
  EXPECT_EQ(val.directory, dir + "/val");
  EXPECT_EQ(train.dataset.size(), 5);
  EXPECT_EQ(val.dataset.size(), 3);
  EXPECT_EQ(train.dataset.channels(), 3);
  EXPECT_EQ(train.dataset.height(), 224);
  EXPECT_EQ(train.dataset.class_names(), (std::vector<std::string>{"animal", "people", "space"}));
  // Gray and RGB mixed with channels kept: one error that asks for --channels.
  fs::copy_file(kSkimage + "/camera.png", dir + "/train/people/gray.png");
  what = error_of([&] {
    data::load_dataset(dir, data::Split::train, data::DatasetOptions().preprocess(data::Preprocess().resize(32).crop(32)));
  });
  EXPECT_NE(what.find("convert them (preprocess channels rgb or gray)"), std::string::npos) << what;
}

TEST(ImageFolder, BadInputsAreOneLineErrorsNamingTheFile) {
  const std::string dir = glassbox::testing::scratch_dir("folder-bad");
  python(dir, R"(
im = Image.new("RGB", (20, 16), (10, 200, 30))
for name in ("truncated", "cmyk", "twelve", "text", "fifo", "empty", "one", "dangling", "ok"):
    for cls in ("a", "b"):
        os.makedirs(f"{d}/{name}/{cls}", exist_ok=True)
        im.save(f"{d}/{name}/{cls}/good.png")
import shutil
shutil.copy("/usr/lib/python3/dist-packages/skimage/data/truncated.jpg", f"{d}/truncated/b/bad.jpg")
Image.new("CMYK", (20, 16), (10, 20, 30, 40)).save(f"{d}/cmyk/b/bad.jpg")
# A 12-bit JPEG's frame header: an 8-bit JPEG with its precision byte set to 12.
b = bytearray(open(f"{d}/ok/a/good.png", "rb").read())
im.save(f"{d}/twelve/b/bad.jpg")
j = bytearray(open(f"{d}/twelve/b/bad.jpg", "rb").read())
sof = j.find(b"\xff\xc0"); j[sof + 4] = 12
open(f"{d}/twelve/b/bad.jpg", "wb").write(j)
open(f"{d}/text/b/bad.png", "w").write("this is text, not a picture\n")
os.mkfifo(f"{d}/fifo/b/bad.png")
os.makedirs(f"{d}/empty/c")
shutil.rmtree(f"{d}/one/b")
os.symlink(f"{d}/nowhere.png", f"{d}/dangling/b/bad.png")
)");
  struct Case {
    std::string folder;
    std::vector<std::string> fragments;
  };
  const std::vector<Case> cases = {
      {"truncated", {"truncated/b/bad.jpg", "truncated JPEG"}},
      {"cmyk", {"cmyk/b/bad.jpg", "CMYK"}},
      {"twelve", {"twelve/b/bad.jpg", "precision 12"}},
      {"text", {"text/b/bad.png", "not a PNG or JPEG file"}},
      {"fifo", {"fifo/b/bad.png", "not a regular file"}},
      {"empty", {"empty/c", "class folder without PNG or JPEG images"}},
      {"one", {"one", "1 class folder, expected at least 2"}},
      {"dangling", {"dangling/b/bad.png", "no such file"}},
  };
  for (const Case& c : cases)
    for (int64_t cache : {int64_t(-1), int64_t(0)}) {  // kept in memory, and decoded per batch (headers first)
      SCOPED_TRACE(c.folder + (cache == 0 ? ", decoded per batch" : ""));
      const std::string what = error_of(
          [&] { data::load_dataset(dir + "/" + c.folder, data::Split::train, data::DatasetOptions().cache_bytes(cache)); });
      for (const auto& f : c.fragments) EXPECT_NE(what.find(f), std::string::npos) << what;
      EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    }
  EXPECT_EQ(error_of([&] { data::load_dataset(dir + "/ok", data::Split::train); }), "");
}

TEST(Cifar, BatchesWrittenInTheirFormatReadBack) {
  const std::string dir = glassbox::testing::scratch_dir("cifar");
  // CIFAR-10: rows of a label byte and 3,072 pixel bytes (red plane, green, blue); CIFAR-100: coarse and
  // fine label bytes first. Pixel (c, y, x) of image i is (i + 7c + 3y + x) mod 256.
  python(dir, R"(
def rows(n, first, labels):
    out = b""
    for i in range(n):
        px = bytes((first + i + 7 * c + 3 * y + x) % 256 for c in range(3) for y in range(32) for x in range(32))
        out += bytes(labels(first + i)) + px
    return out
os.makedirs(f"{d}/c10"); os.makedirs(f"{d}/c100"); os.makedirs(f"{d}/bad")
for k in range(1, 6):
    open(f"{d}/c10/data_batch_{k}.bin", "wb").write(rows(4, (k - 1) * 4, lambda i: [i % 10]))
open(f"{d}/c10/test_batch.bin", "wb").write(rows(5, 100, lambda i: [i % 10]))
open(f"{d}/c10/batches.meta.txt", "w").write("\n".join(["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]) + "\n\n")
open(f"{d}/c100/train.bin", "wb").write(rows(6, 0, lambda i: [i % 20, (i * 7) % 100]))
open(f"{d}/c100/test.bin", "wb").write(rows(2, 50, lambda i: [i % 20, (i * 7) % 100]))
open(f"{d}/c100/fine_label_names.txt", "w").write("\n".join(f"class{k}" for k in range(100)) + "\n")
open(f"{d}/bad/data_batch_1.bin", "wb").write(rows(2, 0, lambda i: [1])[:-1])
)");
  const data::LoadedDataset c10 = data::load_dataset(dir + "/c10", data::Split::train);
  EXPECT_EQ(c10.format, data::DataFormat::cifar10);
  ASSERT_EQ(c10.dataset.size(), 20);
  const at::Tensor images = c10.dataset.images();
  for (int64_t i : {0, 13, 19})
    for (int64_t c = 0; c < 3; ++c)
      EXPECT_EQ(images[i][c][5][9].item<int64_t>(), (i + 7 * c + 3 * 5 + 9) % 256) << i << " " << c;
  EXPECT_EQ(c10.dataset.labels()[13].item<int64_t>(), 3);
  EXPECT_EQ(c10.dataset.class_names()[9], "truck");
  EXPECT_EQ(data::load_dataset(dir + "/c10", data::Split::test).dataset.size(), 5);
  const data::LoadedDataset c100 = data::load_dataset(dir + "/c100", data::Split::train);
  EXPECT_EQ(c100.format, data::DataFormat::cifar100);
  EXPECT_EQ(c100.dataset.num_classes(), 100);
  EXPECT_EQ(c100.dataset.labels()[5].item<int64_t>(), 35);  // the fine label
  EXPECT_EQ(c100.dataset.class_names()[35], "class35");
  // Resized to 64 for a model that takes 64 x 64.
  const auto up = data::load_dataset(dir + "/c10", data::Split::train, data::DatasetOptions().preprocess(data::Preprocess().resize(64)));
  EXPECT_EQ(up.dataset.height(), 64);
  const std::string what = error_of([&] { data::load_dataset(dir + "/bad", data::Split::train); });
  EXPECT_NE(what.find("bad/data_batch_1.bin: 6145 bytes, expected a whole number of 3073-byte rows"), std::string::npos)
      << what;
}
