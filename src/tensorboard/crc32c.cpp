#include "glassbox/tensorboard/crc32c.h"

#include <array>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define GLASSBOX_X86 1
#endif

namespace glassbox::tensorboard {
namespace {

std::array<uint32_t, 256> make_table() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    table[i] = c;
  }
  return table;
}

}  // namespace

uint32_t crc32c_table(const void* data, size_t size) {
  static const std::array<uint32_t, 256> table = make_table();
  const auto* p = static_cast<const uint8_t*>(data);
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < size; ++i) c = table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

#ifdef GLASSBOX_X86
bool crc32c_hardware_available() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return false;
  return (ecx & bit_SSE4_2) != 0;
}

__attribute__((target("sse4.2"))) uint32_t crc32c_hardware(const void* data, size_t size) {
  const auto* p = static_cast<const uint8_t*>(data);
  uint64_t c = 0xFFFFFFFFu;
#ifdef __x86_64__
  for (; size >= 8; size -= 8, p += 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    c = __builtin_ia32_crc32di(c, word);
  }
#endif
  uint32_t c32 = static_cast<uint32_t>(c);
  for (; size > 0; --size, ++p) c32 = __builtin_ia32_crc32qi(c32, *p);
  return c32 ^ 0xFFFFFFFFu;
}
#else
bool crc32c_hardware_available() { return false; }
uint32_t crc32c_hardware(const void* data, size_t size) { return crc32c_table(data, size); }
#endif

uint32_t crc32c(const void* data, size_t size) {
  static const bool hardware = crc32c_hardware_available();
  return hardware ? crc32c_hardware(data, size) : crc32c_table(data, size);
}

}  // namespace glassbox::tensorboard
