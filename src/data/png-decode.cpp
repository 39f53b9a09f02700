// libpng reports errors by longjmp. Everything with a destructor lives in decode_png's frame, made
// before setjmp, so the jump never skips a destructor; the callbacks that libpng calls hold nothing.
#include <png.h>

#include <csetjmp>
#include <cstring>

#include "glassbox/data/image-decode.h"
#include "glassbox/util/error.h"

namespace glassbox::data {
namespace {

// The bytes libpng reads, and why it stopped.
struct Source {
  std::string_view bytes;
  size_t pos = 0;
  std::jmp_buf jump;
  char message[160] = {0};
};

void read_bytes(png_structp png, png_bytep out, png_size_t n) {
  auto* s = static_cast<Source*>(png_get_io_ptr(png));
  if (n > s->bytes.size() - s->pos) png_error(png, "file is truncated");
  std::memcpy(out, s->bytes.data() + s->pos, n);
  s->pos += n;
}

[[noreturn]] void on_error(png_structp png, png_const_charp message) {
  auto* s = static_cast<Source*>(png_get_error_ptr(png));
  std::snprintf(s->message, sizeof s->message, "%s", message);
  std::longjmp(s->jump, 1);
}

void on_warning(png_structp, png_const_charp) {}  // libpng's warnings are not glassbox's output

// Frees libpng's structures however decode_png ends.
struct ReadStruct {
  png_structp png = nullptr;
  png_infop info = nullptr;
  ~ReadStruct() {
    if (png) png_destroy_read_struct(&png, info ? &info : nullptr, nullptr);
  }
};

constexpr size_t kChunkMallocMax = 8u << 20;  // no ancillary chunk (text, ICC profile) above 8 MB

// Walks the chunk list before libpng sees it and refuses any ancillary chunk (text, ICC profile, ...)
// over kChunkMallocMax or longer than the file: a 48-byte PNG whose tEXt claimed 2^31 - 1 bytes made
// libpng allocate and zero 2.2 GB, its chunk_malloc_max notwithstanding. Critical chunks are libpng's
// to judge (a truncated IDAT is its "file is truncated").
void check_ancillary_chunks(std::string_view bytes, const std::string& name) {
  size_t at = 8;
  while (bytes.size() - at >= 12) {
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data() + at);
    const uint64_t length = (uint64_t(p[0]) << 24) | (uint64_t(p[1]) << 16) | (uint64_t(p[2]) << 8) | p[3];
    char type[5] = {static_cast<char>(p[4]), static_cast<char>(p[5]), static_cast<char>(p[6]), static_cast<char>(p[7]), 0};
    const bool ancillary = (p[4] & 0x20) != 0;
    const uint64_t left = bytes.size() - at - 12;
    if (ancillary) {
      GLASSBOX_CHECK(length <= kChunkMallocMax, name, ": PNG chunk ", printable_excerpt(type), " declares ", length,
                     " bytes, more than the ", kChunkMallocMax, " accepted for an ancillary chunk");
      GLASSBOX_CHECK(length <= left, name, ": PNG chunk ", printable_excerpt(type), " declares ", length,
                     " bytes, but only ", left, " follow it");
    }
    if (length > left || std::memcmp(type, "IEND", 4) == 0) return;
    at += 12 + static_cast<size_t>(length);
  }
}

}  // namespace

DecodedImage decode_png(std::string_view bytes, const std::string& name, const DecodeOptions& options) {
  const uint64_t max_pixels = options.max_pixels > 0 ? options.max_pixels : max_image_pixels();
  GLASSBOX_CHECK(bytes.size() >= 8 && png_sig_cmp(reinterpret_cast<png_const_bytep>(bytes.data()), 0, 8) == 0, name,
                 ": not a PNG file (no PNG signature)");
  check_ancillary_chunks(bytes, name);
  DecodedImage out;
  std::vector<png_bytep> rows;
  Source source;
  source.bytes = bytes;
  ReadStruct r;
  r.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &source, on_error, on_warning);
  GLASSBOX_CHECK(r.png != nullptr, name, ": cannot start the PNG decoder");
  r.info = png_create_info_struct(r.png);
  GLASSBOX_CHECK(r.info != nullptr, name, ": cannot start the PNG decoder");
  bool too_large = false;
  uint64_t width = 0, height = 0;
  if (setjmp(source.jump)) {
    throw Error(name + ": corrupt PNG (" + printable_excerpt(source.message, 120) + ")");
  }
  png_set_read_fn(r.png, &source, read_bytes);
  png_set_user_limits(r.png, 1u << 20, 1u << 20);
  png_set_chunk_malloc_max(r.png, kChunkMallocMax);
  png_set_chunk_cache_max(r.png, 256);
  png_read_info(r.png, r.info);
  width = png_get_image_width(r.png, r.info);
  height = png_get_image_height(r.png, r.info);
  too_large = width * height > max_pixels;
  if (!too_large) {
    const int color = png_get_color_type(r.png, r.info);
    const int depth = png_get_bit_depth(r.png, r.info);
    if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(r.png);
    if (color == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(r.png);
    if (depth == 16) png_set_strip_16(r.png);
    // Transparency: dropped, as the alpha channel is.
    if (color & PNG_COLOR_MASK_ALPHA) png_set_strip_alpha(r.png);
    png_set_interlace_handling(r.png);
    png_read_update_info(r.png, r.info);
    out.width = static_cast<int>(width);
    out.height = static_cast<int>(height);
    out.channels = png_get_channels(r.png, r.info);
    const size_t row_bytes = png_get_rowbytes(r.png, r.info);
    if (out.channels != 1 && out.channels != 3) png_error(r.png, "unexpected channel count after conversion");
    if (row_bytes != static_cast<size_t>(width) * static_cast<size_t>(out.channels)) png_error(r.png, "unexpected row size");
    out.pixels.resize(row_bytes * height);
    rows.resize(height);
    for (size_t y = 0; y < height; ++y) rows[y] = out.pixels.data() + y * row_bytes;
    png_read_image(r.png, rows.data());
    png_read_end(r.png, nullptr);
  }
  GLASSBOX_CHECK(!too_large, name, ": ", width, "x", height, " = ", width * height, " pixels, more than the limit of ",
                 max_pixels, " (set GLASSBOX_MAX_IMAGE_PIXELS to allow more)");
  return out;
}

}  // namespace glassbox::data
