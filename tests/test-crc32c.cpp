// CRC-32C against the published test vectors, both implementations, and the TFRecord mask.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "glassbox/tensorboard/crc32c.h"
#include "glassbox/tensorboard/record.h"

using namespace glassbox::tensorboard;

TEST(Crc32c, KnownVectors) {
  const std::string digits = "123456789";
  const std::vector<uint8_t> zeros(32, 0);
  EXPECT_EQ(crc32c_table(digits.data(), digits.size()), 0xE3069283u);
  EXPECT_EQ(crc32c_table(zeros.data(), zeros.size()), 0x8A9136AAu);
  EXPECT_EQ(crc32c(digits.data(), digits.size()), 0xE3069283u);
  if (!crc32c_hardware_available()) GTEST_SKIP() << "no SSE4.2 on this CPU: the table version is in use";
  EXPECT_EQ(crc32c_hardware(digits.data(), digits.size()), 0xE3069283u);
  EXPECT_EQ(crc32c_hardware(zeros.data(), zeros.size()), 0x8A9136AAu);
}

TEST(Crc32c, HardwareAndTableAgreeOnEveryLengthAndAlignment) {
  if (!crc32c_hardware_available()) GTEST_SKIP() << "no SSE4.2 on this CPU";
  std::mt19937 rng(7);
  std::vector<uint8_t> data(1000);
  for (auto& b : data) b = static_cast<uint8_t>(rng());
  for (size_t offset = 0; offset < 8; ++offset)
    for (size_t len = 0; len + offset <= 300; ++len)
      ASSERT_EQ(crc32c_hardware(data.data() + offset, len), crc32c_table(data.data() + offset, len)) << offset << " " << len;
}

TEST(Crc32c, MaskedLengthCrcOfTfRecordFraming) {
  // length 24 -> masked crc 0x224B7FA3, stored little-endian as a3 7f 4b 22.
  const std::string record = frame_record(std::string(24, 'x'));
  ASSERT_EQ(record.size(), 12u + 24u + 4u);
  EXPECT_EQ(static_cast<uint8_t>(record[0]), 24);
  for (int i = 1; i < 8; ++i) EXPECT_EQ(record[i], 0);
  EXPECT_EQ(static_cast<uint8_t>(record[8]), 0xa3);
  EXPECT_EQ(static_cast<uint8_t>(record[9]), 0x7f);
  EXPECT_EQ(static_cast<uint8_t>(record[10]), 0x4b);
  EXPECT_EQ(static_cast<uint8_t>(record[11]), 0x22);
}
