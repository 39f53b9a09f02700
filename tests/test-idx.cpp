// The IDX reader against files written byte by byte from the format's definition.
#include <gtest/gtest.h>
#include <zlib.h>

#include "glassbox/data/idx.h"
#include "glassbox/util/error.h"
#include "test-support.h"

using namespace glassbox;
using namespace glassbox::data;
using glassbox::testing::idx_images;
using glassbox::testing::idx_labels;

namespace {

// Expects `fn` to throw glassbox::Error whose message contains every one of `parts`.
template <typename Fn>
void expect_error(Fn fn, std::initializer_list<std::string> parts) {
  try {
    fn();
    FAIL() << "no error thrown";
  } catch (const Error& e) {
    const std::string message = e.what();
    for (const auto& part : parts) EXPECT_NE(message.find(part), std::string::npos) << message << " lacks " << part;
    EXPECT_EQ(message.find('\n'), std::string::npos) << "one line: " << message;
  }
}

IdxArray parse(const std::vector<uint8_t>& bytes, IdxKind kind = IdxKind::any) {
  return parse_idx(bytes.data(), bytes.size(), "f.idx", kind);
}

}  // namespace

TEST(Idx, ParsesImagesHeaderAndPixels) {
  const IdxArray a = parse(idx_images(3, 2, 4), IdxKind::images);
  EXPECT_EQ(a.type, IdxType::u8);
  EXPECT_EQ(a.dims, (std::vector<uint32_t>{3, 2, 4}));
  ASSERT_EQ(a.bytes.size(), 24u);
  EXPECT_EQ(a.bytes[0], 7);
  EXPECT_EQ(a.bytes[23], 7 + 23);
}

TEST(Idx, ParsesLabels) {
  const IdxArray a = parse(idx_labels({3, 1, 4, 1, 5}), IdxKind::labels);
  EXPECT_EQ(a.dims, (std::vector<uint32_t>{5}));
  EXPECT_EQ(a.bytes, (std::vector<uint8_t>{3, 1, 4, 1, 5}));
}

TEST(Idx, WideElementTypesCountTheirBytes) {
  std::vector<uint8_t> f;
  glassbox::testing::put_be32(f, 0x00000D01);  // float32, 1 dimension
  glassbox::testing::put_be32(f, 2);
  for (int i = 0; i < 8; ++i) f.push_back(0);
  EXPECT_EQ(parse(f).bytes.size(), 8u);
  f.pop_back();
  expect_error([&] { parse(f); }, {"f.idx", "15 bytes", "16", "truncated"});
}

TEST(Idx, EmptyFile) { expect_error([] { parse({}); }, {"f.idx", "empty"}); }

TEST(Idx, WrongMagicNamesTheValue) {
  std::vector<uint8_t> bytes = idx_images(1, 2, 2);
  bytes[0] = 0x1F;
  expect_error([&] { parse(bytes); }, {"f.idx", "0x1F000803"});
  // A valid IDX magic of the wrong kind: labels where images are expected.
  expect_error([&] { parse(idx_labels({1}), IdxKind::images); }, {"f.idx", "0x00000801", "expected 0x00000803"});
}

TEST(Idx, UnknownElementType) {
  std::vector<uint8_t> bytes = idx_images(1, 2, 2);
  bytes[2] = 0x07;
  expect_error([&] { parse(bytes); }, {"f.idx", "0x00000703"});
}

TEST(Idx, TruncatedPayloadAndHeader) {
  std::vector<uint8_t> bytes = idx_images(2, 3, 3);
  bytes.resize(bytes.size() - 1);
  expect_error([&] { parse(bytes); }, {"f.idx", "33 bytes", "34", "truncated"});
  bytes.resize(10);
  expect_error([&] { parse(bytes); }, {"f.idx", "10 bytes", "header"});
}

TEST(Idx, TrailingBytes) {
  std::vector<uint8_t> bytes = idx_labels({1, 2});
  bytes.push_back(0);
  expect_error([&] { parse(bytes); }, {"f.idx", "trailing"});
}

TEST(Idx, HugeDimensionsDoNotOverflow) {
  std::vector<uint8_t> bytes;
  glassbox::testing::put_be32(bytes, 0x00000E04);  // float64, 4 dimensions of 2^32 - 1
  for (int i = 0; i < 4; ++i) glassbox::testing::put_be32(bytes, 0xFFFFFFFF);
  expect_error([&] { parse(bytes); }, {"f.idx", "overflow"});
}

TEST(Idx, LabelCountMustMatchImages) {
  const IdxArray images = parse(idx_images(3, 2, 2));
  const IdxArray labels = parse(idx_labels({0, 1}));
  expect_error([&] { validate_labels(images, "img", labels, "lab", 10); }, {"lab", "2 labels", "img", "3 images"});
}

TEST(Idx, LabelOutOfRangeNamesIndexAndValue) {
  const IdxArray images = parse(idx_images(3, 2, 2));
  const IdxArray labels = parse(idx_labels({0, 12, 1}));
  expect_error([&] { validate_labels(images, "img", labels, "lab", 10); }, {"lab", "label 12", "index 1", "0..9"});
  EXPECT_EQ(validate_labels(images, "img", labels, "lab", 0), 13);  // inferred class count
}

TEST(Idx, ReadsGzipAndRejectsCorruptGzip) {
  const std::string dir = glassbox::testing::scratch_dir("idx-gz");
  const std::vector<uint8_t> raw = idx_images(4, 3, 3);
  const std::string path = dir + "/x-idx3-ubyte.gz";
  gzFile gz = gzopen(path.c_str(), "wb");
  gzwrite(gz, raw.data(), static_cast<unsigned>(raw.size()));
  gzclose(gz);
  const IdxArray a = read_idx_file(path, IdxKind::images);
  EXPECT_EQ(a.dims, (std::vector<uint32_t>{4, 3, 3}));
  EXPECT_EQ(a.bytes.back(), static_cast<uint8_t>(7 + 35));

  // Cut the compressed stream short: the reader must report the file, not return a short array.
  std::ifstream in(path, std::ios::binary);
  std::vector<uint8_t> compressed((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  compressed.resize(compressed.size() / 2);
  const std::string cut = dir + "/cut-idx3-ubyte.gz";
  glassbox::testing::write_bytes(cut, compressed);
  expect_error([&] { read_idx_file(cut, IdxKind::images); }, {cut});
}

TEST(Idx, MissingFileAndDirectory) {
  const std::string dir = glassbox::testing::scratch_dir("idx-missing");
  expect_error([&] { read_idx_file(dir + "/nope"); }, {dir + "/nope", "no such file"});
  expect_error([&] { read_idx_file(dir); }, {dir, "not a regular file"});
}
