// CRC-32C (Castagnoli), as TFRecord framing needs it. Written here rather than taken from a library:
// it is a dozen lines, Debian has no small package for it, and the SSE4.2 instruction makes it free.
#pragma once

#include <cstddef>
#include <cstdint>

namespace glassbox::tensorboard {

// CRC-32C of `data`: reflected polynomial 0x82F63B78, init and final xor 0xFFFFFFFF.
// Uses the SSE4.2 crc32 instruction when the CPU has it, a table otherwise.
uint32_t crc32c(const void* data, size_t size);

// The two implementations, exposed so tests check both on every machine.
uint32_t crc32c_table(const void* data, size_t size);
uint32_t crc32c_hardware(const void* data, size_t size);  // requires crc32c_hardware_available()
bool crc32c_hardware_available();

// TFRecord's masked CRC: ((c >> 15) | (c << 17)) + 0xA282EAD8.
inline uint32_t mask_crc(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xA282EAD8u; }

}  // namespace glassbox::tensorboard
