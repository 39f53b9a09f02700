#include "glassbox/render/png.h"

#include <png.h>

#include <csetjmp>
#include <cstdio>
#include <vector>

#include "glassbox/util/atomic-file.h"
#include "glassbox/util/error.h"

namespace glassbox::render {
namespace {

void append_to_string(png_structp png, png_bytep data, png_size_t size) {
  auto* out = static_cast<std::string*>(png_get_io_ptr(png));
  out->append(reinterpret_cast<const char*>(data), size);
}

void no_flush(png_structp) {}

// libpng reports errors by longjmp; the message is kept here to be thrown once back in C++ frames.
struct ErrorState {
  std::jmp_buf jump;
  char message[256] = {0};
};

[[noreturn]] void on_error(png_structp png, png_const_charp message) {
  auto* state = static_cast<ErrorState*>(png_get_error_ptr(png));
  std::snprintf(state->message, sizeof state->message, "%s", message);
  std::longjmp(state->jump, 1);
}
void on_warning(png_structp, png_const_charp) {}

}  // namespace

std::string encode_png(const uint8_t* pixels, int width, int height, int channels, int stride, int compression_level) {
  GLASSBOX_CHECK(width > 0 && height > 0, "png: image size ", width, "x", height, ", expected positive");
  GLASSBOX_CHECK(channels >= 1 && channels <= 4, "png: ", channels, " channels, expected 1 to 4");
  if (stride == 0) stride = width * channels;
  GLASSBOX_CHECK(stride >= width * channels, "png: row stride ", stride, " shorter than a row");
  static const int color_types[] = {PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_COLOR_TYPE_RGB,
                                    PNG_COLOR_TYPE_RGB_ALPHA};
  std::string out;
  // Everything with a destructor is built before setjmp: a longjmp must not skip any.
  std::vector<png_bytep> rows(static_cast<size_t>(height));
  for (int y = 0; y < height; ++y) rows[y] = const_cast<png_bytep>(pixels + static_cast<size_t>(y) * stride);
  ErrorState state;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &state, on_error, on_warning);
  GLASSBOX_CHECK(png != nullptr, "png: cannot create the encoder");
  png_infop info = png_create_info_struct(png);
  if (info == nullptr || setjmp(state.jump)) {
    png_destroy_write_struct(&png, &info);
    throw Error(std::string("png: ") + (state.message[0] ? state.message : "cannot create the encoder"));
  }
  png_set_write_fn(png, &out, append_to_string, no_flush);
  png_set_IHDR(png, info, static_cast<png_uint_32>(width), static_cast<png_uint_32>(height), 8,
               color_types[channels - 1], PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_set_compression_level(png, compression_level);
  png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_NONE);
  png_write_info(png, info);
  png_write_image(png, rows.data());
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return out;
}

void write_png_file(const std::string& path, const std::string& bytes) { write_file_atomically(path, bytes); }

}  // namespace glassbox::render
