// Decoding image files (PNG, JPEG) of any size into 8-bit pixels, bounded: no file can make glassbox
// allocate more than its pixel limit allows, whatever its header claims. Free of libtorch (fuzzed).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace glassbox::data {

// Pillow's MAX_IMAGE_PIXELS (1024 * 1024 * 1024 / 4 / 3 = 89,478,485): beyond it an image is refused
// as a likely decompression bomb. The environment variable GLASSBOX_MAX_IMAGE_PIXELS overrides it.
constexpr uint64_t kDefaultMaxImagePixels = 89478485;
uint64_t max_image_pixels();

// 8-bit pixels, rows top to bottom, channels interleaved: 1 (gray) or 3 (RGB).
struct DecodedImage {
  int width = 0;
  int height = 0;
  int channels = 0;
  std::vector<uint8_t> pixels;
};

struct DecodeOptions {
  uint64_t max_pixels = 0;  // 0: max_image_pixels()
};

// PNG through libpng: gray, gray + alpha, palette, RGB, RGBA, 1- to 16-bit, interlaced. Alpha is dropped
// (as PIL's convert("RGB") does, without compositing); 16-bit samples keep their high byte (as Pillow
// reads them); palettes and low bit depths are expanded. Gray stays one channel. Truncated or damaged
// files, and images over the pixel limit, throw glassbox::Error naming `name`, on one line; libpng's
// warnings are dropped, never printed.
DecodedImage decode_png(std::string_view bytes, const std::string& name, const DecodeOptions& options = {});

// JPEG through libjpeg(-turbo), decoded as Pillow decodes it (accurate DCT, fancy upsampling): gray stays
// one channel, YCbCr becomes RGB. CMYK and 12-bit JPEGs, truncated or damaged files and images over the
// pixel limit throw glassbox::Error naming `name`; libjpeg's messages are never printed.
DecodedImage decode_jpeg(std::string_view bytes, const std::string& name, const DecodeOptions& options = {});

// What an image's header says, without decoding it: its size and the channels it decodes to.
struct ImageInfo {
  int width = 0, height = 0, channels = 0;
};
// From the first bytes of a PNG or JPEG (a PNG's IHDR, a JPEG's frame header). Throws glassbox::Error
// naming `name` when they are not a PNG or JPEG header, or describe a CMYK or 12-bit JPEG.
ImageInfo probe_image(std::string_view bytes, const std::string& name);
ImageInfo probe_jpeg(std::string_view bytes, const std::string& name);

// Decodes PNG or JPEG bytes, told apart by their signature.
DecodedImage decode_image(std::string_view bytes, const std::string& name, const DecodeOptions& options = {});

// The bytes of an image file, read whole only once its header has been read and the file's size found
// plausible for the pixels it declares (at most 16 bytes a pixel and 16 MiB of other chunks and
// segments; at most 1 GiB in all): a sparse file of a gigabyte behind a small header is refused before
// it is read. Errors name the path.
std::string read_image_bytes(const std::string& path);

// Reads and decodes an image file (PNG or JPEG, by its signature, whatever its name). Errors name the path.
DecodedImage read_image_file(const std::string& path, const DecodeOptions& options = {});

}  // namespace glassbox::data
