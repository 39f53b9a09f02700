// SHA-256 digests (OpenSSL's), for checking that a file is exactly what glassbox wrote.
#pragma once

#include <string>
#include <string_view>

namespace glassbox {

// The SHA-256 of `data` as 64 lower-case hexadecimal digits.
std::string sha256_hex(std::string_view data);

}  // namespace glassbox
