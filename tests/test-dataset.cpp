// In-memory datasets, splits, shuffling, batches and normalisation.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cstring>
#include <set>
#include <sstream>

#include "glassbox/data/dataset.h"
#include "glassbox/data/named.h"
#include "glassbox/util/error.h"
#include "test-support.h"

using namespace glassbox::data;

namespace {

// N samples whose every pixel holds the sample's index (mod 256), label = index % classes.
Dataset numbered(int64_t n, int64_t channels = 1, int64_t classes = 10) {
  at::Tensor images = at::arange(n, at::kLong).remainder(256).to(at::kByte).view({n, 1, 1, 1}).expand({n, channels, 3, 2});
  return Dataset(images.contiguous(), at::arange(n, at::kLong).remainder(classes), classes);
}

std::set<int64_t> ids_of(const Dataset& d) {
  std::set<int64_t> ids;
  const Batch b = d.batch(0, d.size());
  for (int64_t i = 0; i < d.size(); ++i) ids.insert(std::lround(b.x[i][0][0][0].item<float>() * 255));
  return ids;
}

}  // namespace

TEST(Dataset, ShapeAndBatchValues) {
  const Dataset d = numbered(20, 3);
  EXPECT_EQ(d.size(), 20);
  EXPECT_EQ(d.channels(), 3);
  EXPECT_EQ(d.height(), 3);
  EXPECT_EQ(d.width(), 2);
  const Batch b = d.batch(at::tensor({4L, 7L}));
  EXPECT_EQ(b.x.sizes(), (std::vector<int64_t>{2, 3, 3, 2}));
  EXPECT_EQ(b.x.scalar_type(), at::kFloat);
  EXPECT_TRUE(b.x.is_contiguous());
  EXPECT_FLOAT_EQ(b.x[1][2][1][1].item<float>(), 7.0f / 255.0f);
  EXPECT_EQ(b.y[0].item<int64_t>(), 4);
}

TEST(Dataset, RandomSplitBySizesIsDisjointCompleteAndSeeded) {
  const Dataset d = numbered(100);
  const auto parts = random_split(d, std::vector<int64_t>{70, 30}, 42);
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0].size(), 70);
  EXPECT_EQ(parts[1].size(), 30);
  std::set<int64_t> a = ids_of(parts[0]), b = ids_of(parts[1]);
  EXPECT_EQ(a.size(), 70u);
  for (int64_t id : b) EXPECT_EQ(a.count(id), 0u);
  a.insert(b.begin(), b.end());
  EXPECT_EQ(a.size(), 100u);
  EXPECT_EQ(ids_of(random_split(d, std::vector<int64_t>{70, 30}, 42)[0]), ids_of(parts[0]));
  EXPECT_NE(ids_of(random_split(d, std::vector<int64_t>{70, 30}, 43)[0]), ids_of(parts[0]));
  // A split of a split still reads the right samples (views compose).
  const auto inner = random_split(parts[1], std::vector<int64_t>{10, 20}, 1);
  for (int64_t id : ids_of(inner[0])) EXPECT_EQ(ids_of(parts[1]).count(id), 1u);
  // Labels follow their images.
  const Batch bb = parts[1].batch(0, parts[1].size());
  for (int64_t i = 0; i < parts[1].size(); ++i)
    EXPECT_EQ(bb.y[i].item<int64_t>(), std::lround(bb.x[i][0][0][0].item<float>() * 255) % 10);
}

TEST(Dataset, RandomSplitByFractions) {
  const auto parts = random_split(numbered(10), std::vector<double>{0.75, 0.25}, 0);
  EXPECT_EQ(parts[0].size() + parts[1].size(), 10);
  EXPECT_EQ(parts[0].size(), 8);  // floor(7.5) = 7, then the remainder goes to the first part
  EXPECT_THROW(random_split(numbered(10), std::vector<double>{0.5, 0.2}, 0), glassbox::Error);
  EXPECT_THROW(random_split(numbered(10), std::vector<int64_t>{5, 6}, 0), glassbox::Error);
}

TEST(Dataset, EpochOrderIsAPermutationFixedBySeedAndEpoch) {
  const at::Tensor a = epoch_order(50, 7, 0);
  EXPECT_TRUE(at::equal(std::get<0>(a.sort()), at::arange(50, at::kLong)));
  EXPECT_TRUE(at::equal(a, epoch_order(50, 7, 0)));
  EXPECT_FALSE(at::equal(a, epoch_order(50, 7, 1)));
  EXPECT_FALSE(at::equal(a, epoch_order(50, 8, 0)));
}

TEST(Dataset, NormalizationAndItsInverse) {
  Dataset d = numbered(30, 3);
  const Normalization n = d.compute_normalization();
  ASSERT_EQ(n.mean.size(), 3u);
  // Pixel values are 0..29 / 255: mean 14.5 / 255 in every channel.
  EXPECT_NEAR(n.mean[1], 14.5 / 255, 1e-9);
  const Batch raw = d.batch(0, 30);
  const at::Tensor normed = n.apply(raw.x);
  EXPECT_NEAR(normed.mean().item<double>(), 0.0, 1e-5);
  for (int64_t c = 0; c < 3; ++c) EXPECT_NEAR(normed.select(1, c).std().item<double>(), 1.0, 1e-4);
  EXPECT_TRUE(at::allclose(n.invert(normed), raw.x, 1e-5, 1e-6));
  EXPECT_THROW(Normalization({{0.5, 0.5}, {0.2, 0.2}}).validate(3), glassbox::Error);  // 2 values, 3 channels
  EXPECT_THROW(Normalization({{0.5}, {0.0}}).validate(3), glassbox::Error);            // std 0
}

TEST(Dataset, RejectsLabelsOutOfRange) {
  EXPECT_THROW(Dataset(at::zeros({2, 1, 2, 2}, at::kByte), at::tensor({0L, 10L}), 10), glassbox::Error);
}

TEST(NamedDatasets, DefaultSplitSizes) {
  EXPECT_EQ(default_train_val_sizes(60000), (std::vector<int64_t>{55000, 5000}));
  EXPECT_EQ(default_train_val_sizes(8000), (std::vector<int64_t>{7333, 667}));
}

TEST(NamedDatasets, LoadsAnIdxDirectory) {
  const std::string dir = glassbox::testing::scratch_dir("named");
  glassbox::testing::write_bytes(dir + "/train-images-idx3-ubyte", glassbox::testing::idx_images(3, 4, 5));
  glassbox::testing::write_bytes(dir + "/train-labels-idx1-ubyte", glassbox::testing::idx_labels({2, 0, 1}));
  const Dataset d = load_idx_dataset(dir, Split::train);
  EXPECT_EQ(d.size(), 3);
  EXPECT_EQ(d.height(), 4);
  EXPECT_EQ(d.width(), 5);
  EXPECT_EQ(d.num_classes(), 3);
  EXPECT_EQ(d.labels()[0].item<int64_t>(), 2);
  EXPECT_EQ(d.images()[1][0][0][0].item<int64_t>(), 7 + 20);
  try {
    load_idx_dataset(dir, Split::test);
    FAIL();
  } catch (const glassbox::Error& e) {
    EXPECT_NE(std::string(e.what()).find("t10k-images-idx3-ubyte"), std::string::npos) << e.what();
  }
}

TEST(NamedDatasets, EmbeddedMnistIsBalancedAndReal) {
  const std::string dir = std::string(GLASSBOX_SOURCE_DIR) + "/data/mnist";
  if (!std::filesystem::exists(dir)) GTEST_SKIP() << "run scripts/setup to prepare " << dir;
  const Dataset train = load_idx_dataset(dir, Split::train);
  const Dataset test = load_idx_dataset(dir, Split::test);
  EXPECT_EQ(train.size(), 8000);
  EXPECT_EQ(test.size(), 2000);
  const at::Tensor counts = at::bincount(train.labels());
  EXPECT_EQ(counts.numel(), 10);
  EXPECT_GE(counts.min().item<int64_t>(), 650);  // the package's rarest digit (5) has 863 samples
  // Real digits: mostly background, some full ink.
  const at::Tensor x = train.images().to(at::kFloat);
  EXPECT_GT(x.eq(0).to(at::kFloat).mean().item<float>(), 0.6f);
  EXPECT_EQ(x.max().item<float>(), 255.0f);
}

// Pixels become floats as torchvision's ToTensor makes them (a division by 255, computed here by
// python3-torchvision on a 1 x 256 image holding every value): bit for bit, on every batch path.
TEST(Dataset, PixelsConvertExactlyAsToTensorDoes) {
  const auto r = glassbox::testing::run_command(
      "/usr/bin/python3 -c \"import numpy, struct; from PIL import Image; import torchvision.transforms.functional as F; "
      "t = F.to_tensor(Image.fromarray(numpy.arange(256, dtype=numpy.uint8).reshape(1, 256))); "
      "print(' '.join('%08x' % struct.unpack('<I', struct.pack('<f', v))[0] for v in t.flatten().tolist()))\"");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::istringstream words(r.output);
  std::vector<uint32_t> expected;
  for (std::string w; words >> w;) expected.push_back(static_cast<uint32_t>(std::stoul(w, nullptr, 16)));
  ASSERT_EQ(expected.size(), 256u);
  const Dataset d = numbered(256);
  for (const Batch& b : {d.batch(0, 256), d.batch(at::arange(256, at::kLong))}) {
    const at::Tensor x = b.x.select(3, 0).select(2, 0).select(1, 0).contiguous();
    for (int64_t v = 0; v < 256; ++v) {
      uint32_t bits = 0;
      const float f = x[v].item<float>();
      std::memcpy(&bits, &f, 4);
      EXPECT_EQ(bits, expected[static_cast<size_t>(v)]) << "pixel value " << v;
    }
  }
}
