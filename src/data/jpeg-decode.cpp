// libjpeg reports fatal errors through error_exit, which must not return: it longjmps back to
// decode_jpeg. As in png-decode.cpp, everything with a destructor is made before setjmp.
// jpeglib.h uses size_t and FILE without including their headers.
#include <cstddef>
#include <cstdio>

#include <jerror.h>
#include <jpeglib.h>

#include <csetjmp>

#include "glassbox/data/image-decode.h"
#include "glassbox/util/error.h"

namespace glassbox::data {
namespace {

struct ErrorState {
  jpeg_error_mgr mgr;  // first: libjpeg hands back a pointer to it
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX] = {0};
  bool truncated = false;
  bool too_many_scans = false;
};

// A progressive JPEG may hold any number of scans, each a pass over the whole image: 20,000 empty scans
// in 200 KB decoded for 287 s. libjpeg-turbo's TurboJPEG API stops at 500 for that reason; so does this.
constexpr int kMaxScans = 500;

void on_progress(j_common_ptr cinfo) {
  auto* d = reinterpret_cast<j_decompress_ptr>(cinfo);
  if (d->input_scan_number <= kMaxScans) return;
  auto* state = reinterpret_cast<ErrorState*>(cinfo->err);
  state->too_many_scans = true;
  std::longjmp(state->jump, 1);
}

[[noreturn]] void on_error(j_common_ptr cinfo) {
  auto* state = reinterpret_cast<ErrorState*>(cinfo->err);
  if (!state->truncated) (*cinfo->err->format_message)(cinfo, state->message);  // else keep "premature end"
  std::longjmp(state->jump, 1);
}

// Warnings (level -1) are corrupt data libjpeg works around; only running out of data matters here
// (Pillow refuses a truncated JPEG too). Trace messages (level >= 0) are ignored; nothing is printed.
void on_message(j_common_ptr cinfo, int level) {
  auto* state = reinterpret_cast<ErrorState*>(cinfo->err);
  if (level == -1 && cinfo->err->msg_code == JWRN_JPEG_EOF && !state->truncated) {
    state->truncated = true;
    (*cinfo->err->format_message)(cinfo, state->message);
  }
}

void no_output(j_common_ptr) {}

// libjpeg's decompressor with glassbox's error handling, destroyed however decoding ends. Its callers
// setjmp(state.jump) before read_header: a longjmp from libjpeg lands in their frame.
struct Decompressor {
  ErrorState state;
  jpeg_decompress_struct cinfo{};
  jpeg_progress_mgr progress{};
  bool created = false;

  Decompressor() {
    cinfo.err = jpeg_std_error(&state.mgr);
    state.mgr.error_exit = on_error;
    state.mgr.emit_message = on_message;
    state.mgr.output_message = no_output;
  }
  ~Decompressor() {
    if (created) jpeg_destroy_decompress(&cinfo);
  }
  Decompressor(const Decompressor&) = delete;
  Decompressor& operator=(const Decompressor&) = delete;

  void read_header(std::string_view bytes) {
    jpeg_create_decompress(&cinfo);
    created = true;
    progress.progress_monitor = on_progress;
    cinfo.progress = &progress;
    jpeg_mem_src(&cinfo, reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<unsigned long>(bytes.size()));
    jpeg_read_header(&cinfo, TRUE);  // a 12-bit JPEG stops here: "Unsupported JPEG data precision 12"
  }
  // What libjpeg said, as one line: data that ran out first is the cause, whatever came after it.
  [[noreturn]] void fail(const std::string& name) const {
    GLASSBOX_CHECK(!state.too_many_scans, name, ": a progressive JPEG of more than ", kMaxScans, " scans, refused");
    throw Error(name + (state.truncated ? ": truncated JPEG (" : ": cannot decode JPEG (") +
                printable_excerpt(state.message, 120) + ")");
  }
};

void check_signature(std::string_view bytes, const std::string& name) {
  GLASSBOX_CHECK(bytes.size() >= 3 && static_cast<uint8_t>(bytes[0]) == 0xFF && static_cast<uint8_t>(bytes[1]) == 0xD8 &&
                     static_cast<uint8_t>(bytes[2]) == 0xFF,
                 name, ": not a JPEG file (no JPEG start marker)");
}

}  // namespace

DecodedImage decode_jpeg(std::string_view bytes, const std::string& name, const DecodeOptions& options) {
  const uint64_t max_pixels = options.max_pixels > 0 ? options.max_pixels : max_image_pixels();
  check_signature(bytes, name);
  DecodedImage out;
  Decompressor d;
  ErrorState& state = d.state;
  enum class Refusal { none, cmyk, too_large };
  Refusal refusal = Refusal::none;
  uint64_t width = 0, height = 0;
  if (setjmp(state.jump)) d.fail(name);
  d.read_header(bytes);
  width = d.cinfo.image_width;
  height = d.cinfo.image_height;
  if (d.cinfo.jpeg_color_space == JCS_CMYK || d.cinfo.jpeg_color_space == JCS_YCCK) {
    refusal = Refusal::cmyk;
  } else if (width * height > max_pixels) {
    refusal = Refusal::too_large;
  } else {
    d.cinfo.out_color_space = d.cinfo.num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;
    // Pillow's decoding: accurate integer DCT, fancy upsampling (libjpeg's defaults).
    jpeg_start_decompress(&d.cinfo);
    out.width = static_cast<int>(d.cinfo.output_width);
    out.height = static_cast<int>(d.cinfo.output_height);
    out.channels = d.cinfo.output_components;
    const size_t row = static_cast<size_t>(out.width) * static_cast<size_t>(out.channels);
    out.pixels.resize(row * static_cast<size_t>(out.height));
    while (d.cinfo.output_scanline < d.cinfo.output_height && !state.truncated) {
      JSAMPROW rows[1] = {out.pixels.data() + row * d.cinfo.output_scanline};
      jpeg_read_scanlines(&d.cinfo, rows, 1);
    }
    if (!state.truncated) jpeg_finish_decompress(&d.cinfo);
  }
  GLASSBOX_CHECK(refusal != Refusal::cmyk, name, ": a CMYK JPEG, expected gray or RGB (convert it first)");
  GLASSBOX_CHECK(refusal != Refusal::too_large, name, ": ", width, "x", height, " = ", width * height,
                 " pixels, more than the limit of ", max_pixels, " (set GLASSBOX_MAX_IMAGE_PIXELS to allow more)");
  GLASSBOX_CHECK(!state.truncated, name, ": truncated JPEG (", printable_excerpt(state.message, 120), ")");
  return out;
}

ImageInfo probe_jpeg(std::string_view bytes, const std::string& name) {
  check_signature(bytes, name);
  Decompressor d;
  if (setjmp(d.state.jump)) d.fail(name);
  d.read_header(bytes);
  const bool cmyk = d.cinfo.jpeg_color_space == JCS_CMYK || d.cinfo.jpeg_color_space == JCS_YCCK;
  GLASSBOX_CHECK(!cmyk, name, ": a CMYK JPEG, expected gray or RGB (convert it first)");
  return {static_cast<int>(d.cinfo.image_width), static_cast<int>(d.cinfo.image_height),
          d.cinfo.num_components == 1 ? 1 : 3};
}

}  // namespace glassbox::data
