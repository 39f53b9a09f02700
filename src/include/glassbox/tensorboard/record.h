// TFRecord framing: u64 length, masked CRC-32C of the length, data, masked CRC-32C of the data.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace glassbox::tensorboard {

// Frames one record, ready to append to an event file.
std::string frame_record(std::string_view data);

// The framing's fixed overhead: 8 + 4 bytes before the data, 4 after.
constexpr size_t kRecordHeaderSize = 12;
constexpr size_t kRecordFooterSize = 4;

}  // namespace glassbox::tensorboard
