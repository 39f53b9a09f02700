#include "glassbox/tensorboard/record.h"

#include <cstring>

#include "glassbox/tensorboard/crc32c.h"

namespace glassbox::tensorboard {
namespace {

void put_le(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

}  // namespace

std::string frame_record(std::string_view data) {
  std::string out;
  out.reserve(kRecordHeaderSize + data.size() + kRecordFooterSize);
  put_le(out, data.size(), 8);
  put_le(out, mask_crc(crc32c(out.data(), 8)), 4);
  out.append(data.data(), data.size());
  put_le(out, mask_crc(crc32c(data.data(), data.size())), 4);
  return out;
}

}  // namespace glassbox::tensorboard
