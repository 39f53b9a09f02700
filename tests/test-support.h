// Helpers shared by the tests: scratch directories, writing IDX files byte by byte, running the CLI.
#pragma once

#include <png.h>
#include <sys/wait.h>

#include <array>
#include <functional>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "glassbox/util/error.h"

namespace glassbox::testing {

// A fresh, empty directory under the build tree for one test.
inline std::string scratch_dir(const std::string& name) {
  const std::filesystem::path dir = std::filesystem::path(GLASSBOX_TEST_TMP) / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

inline void put_be32(std::vector<uint8_t>& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(v >> shift));
}

// IDX bytes written out by hand from the format's definition (independent of the parser).
inline std::vector<uint8_t> idx_images(uint32_t n, uint32_t h, uint32_t w, uint8_t fill = 7) {
  std::vector<uint8_t> out;
  put_be32(out, 0x00000803);
  put_be32(out, n);
  put_be32(out, h);
  put_be32(out, w);
  for (uint32_t i = 0; i < n * h * w; ++i) out.push_back(static_cast<uint8_t>(fill + i));
  return out;
}

inline std::vector<uint8_t> idx_labels(const std::vector<uint8_t>& labels) {
  std::vector<uint8_t> out;
  put_be32(out, 0x00000801);
  put_be32(out, static_cast<uint32_t>(labels.size()));
  out.insert(out.end(), labels.begin(), labels.end());
  return out;
}

// A whole file as a string ("" when it cannot be read).
inline std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

inline void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// Decodes PNG bytes with libpng's own reader (independent of our encoder), as 8-bit pixels in
// `format` (PNG_FORMAT_RGB, PNG_FORMAT_RGBA, ...). Width and height come back through the references.
inline std::vector<uint8_t> decode_png(const std::string& bytes, int& width, int& height,
                                       png_uint_32 format = PNG_FORMAT_RGB) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&image, bytes.data(), bytes.size())) return {};
  image.format = format;
  std::vector<uint8_t> pixels(PNG_IMAGE_SIZE(image));
  if (!png_image_finish_read(&image, nullptr, pixels.data(), 0, nullptr)) return {};
  width = static_cast<int>(image.width);
  height = static_cast<int>(image.height);
  return pixels;
}

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

inline CommandResult run_command(const std::string& command) {
  CommandResult r;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return r;
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) r.output.append(buf.data(), n);
  const int status = pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

// The message of the glassbox::Error that `f` throws, or "" when it throws none.
template <typename ErrorType>
std::string error_message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const ErrorType& e) {
    return e.what();
  }
  return "";
}

// The parameter a glassbox::Error that `f` throws is about (Error::about), or "(none)" when it throws none.
inline std::string parameter_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const glassbox::Error& e) {
    return e.parameter();
  }
  return "(none)";
}

}  // namespace glassbox::testing
