// PNG decoding against Pillow's reading of the same files (every colour type, bit depth and interlace
// Pillow writes), and bounded on hostile files: a header claiming 65535 x 65535, a chunk claiming 2^31
// bytes, truncation, damage. Errors are one line naming the file; nothing is printed by libpng.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <fstream>

#include "glassbox/data/image-decode.h"
#include "glassbox/util/error.h"
#include "glassbox/util/file-bytes.h"
#include "test-support.h"

using namespace glassbox;

namespace {

std::string error_of(const std::function<void()>& f) { return glassbox::testing::error_message_of<glassbox::Error>(f); }

void put_be32(std::string& s, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) s.push_back(static_cast<char>((v >> shift) & 0xFF));
}

// A PNG chunk with its CRC, written from the format's definition.
std::string chunk(const std::string& type, const std::string& data, uint32_t declared_length = UINT32_MAX) {
  std::string out;
  put_be32(out, declared_length == UINT32_MAX ? static_cast<uint32_t>(data.size()) : declared_length);
  const std::string body = type + data;
  out += body;
  put_be32(out, static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size()))));
  return out;
}

std::string ihdr(uint32_t w, uint32_t h, int depth = 8, int color = 2) {
  std::string d;
  put_be32(d, w);
  put_be32(d, h);
  d += static_cast<char>(depth);
  d += static_cast<char>(color);
  d += std::string(3, '\0');
  return chunk("IHDR", d);
}

const std::string kSignature = "\x89PNG\r\n\x1a\n";

// Peak resident memory of running `f` in a child process, in MB.
double child_peak_mb(const std::function<void()>& f) {
  const pid_t pid = fork();
  if (pid == 0) {
    try {
      f();
    } catch (...) {
    }
    _exit(0);
  }
  int status = 0;
  rusage usage{};
  wait4(pid, &status, 0, &usage);
  return usage.ru_maxrss / 1024.0;
}

}  // namespace

TEST(ImageDecode, EveryKindOfPngDecodesAsPillowReadsIt) {
  const std::string dir = glassbox::testing::scratch_dir("png-kinds");
  // Pillow writes each variant and dumps the pixels it reads back as gray ("L") or RGB: the truth.
  std::ofstream(dir + "/make.py") << R"(import sys
from PIL import Image
d = sys.argv[1]
base = Image.new("RGB", (37, 23))
base.putdata([((x * 7) % 256, (y * 11) % 256, (x * y) % 256) for y in range(23) for x in range(37)])
gray = base.convert("L")
cases = {
  "rgb": (base, {}), "rgba": (base.convert("RGBA"), {}), "gray": (gray, {}), "gray_alpha": (gray.convert("LA"), {}),
  "palette": (base.quantize(50), {}), "interlaced": (base, {"interlace": 1}), "bits1": (gray.convert("1"), {}),
  "gray16": (gray.point(lambda v: v * 257, "I").convert("I;16"), {}),
}
for name, (im, kw) in cases.items():
    im.save(f"{d}/{name}.png", **kw)
    back = Image.open(f"{d}/{name}.png")
    mode = "L" if back.mode in ("L", "LA", "1", "I;16", "I") else "RGB"
    if back.mode in ("I;16", "I"):
        pixels = bytes(v >> 8 for v in back.getdata())  # the high byte: how 16-bit samples become 8-bit
    else:
        pixels = back.convert(mode).tobytes()
    open(f"{d}/{name}.truth", "wb").write(bytes([1 if mode == "L" else 3]) + pixels)
)";
  const auto r = glassbox::testing::run_command("/usr/bin/python3 " + dir + "/make.py " + dir);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* name : {"rgb", "rgba", "gray", "gray_alpha", "palette", "interlaced", "bits1", "gray16"}) {
    SCOPED_TRACE(name);
    const data::DecodedImage im = data::read_image_file(dir + "/" + name + ".png");
    const std::string truth = read_file(dir + "/" + name + ".truth");
    EXPECT_EQ(im.width, 37);
    EXPECT_EQ(im.height, 23);
    EXPECT_EQ(im.channels, truth[0]);
    ASSERT_EQ(im.pixels.size() + 1, truth.size());
    EXPECT_EQ(std::string(im.pixels.begin(), im.pixels.end()), truth.substr(1));
  }
}

TEST(ImageDecode, HostileHeadersAreRefusedWithoutAllocating) {
  // 69 bytes whose header claims 65535 x 65535 RGB (12.9 GB decoded): this allocated 4.4 GB.
  const std::string huge = kSignature + ihdr(65535, 65535) + chunk("IDAT", std::string(8, '\0')) + chunk("IEND", "");
  std::string what = error_of([&] { data::decode_png(huge, "huge.png"); });
  EXPECT_NE(what.find("huge.png: 65535x65535 = 4294836225 pixels, more than the limit of 89478485"), std::string::npos)
      << what;
  EXPECT_LT(child_peak_mb([&] { data::decode_png(huge, "huge.png"); }), 200.0);
  // The limit is Pillow's and can be raised (or lowered) through the environment.
  ::setenv("GLASSBOX_MAX_IMAGE_PIXELS", "100", 1);
  what = error_of([&] { data::decode_png(kSignature + ihdr(11, 10) + chunk("IDAT", std::string(8, '\0')) + chunk("IEND", ""), "small.png"); });
  ::unsetenv("GLASSBOX_MAX_IMAGE_PIXELS");
  EXPECT_NE(what.find("110 pixels, more than the limit of 100"), std::string::npos) << what;
  // Text chunks claiming 2^31 or 2^31 - 1 bytes in a file of under 150: libpng allocated and zeroed
  // 2.2 GB for the latter. Refused before libpng reads them.
  for (const uint32_t claimed : {0x80000000u, 0x7FFFFFFFu})
    for (const char* type : {"tEXt", "zTXt", "iTXt"}) {
      SCOPED_TRACE(std::string(type) + " " + std::to_string(claimed));
      const std::string claim = kSignature + ihdr(4, 4) + chunk(type, "k", claimed) + chunk("IEND", "");
      EXPECT_LT(child_peak_mb([&] { data::decode_png(claim, "claim.png"); }), 200.0);
      what = error_of([&] { data::decode_png(claim, "claim.png"); });
      EXPECT_EQ(what, "claim.png: PNG chunk " + std::string(type) + " declares " + std::to_string(claimed) +
                          " bytes, more than the 8388608 accepted for an ancillary chunk");
    }
  // Within the bound but longer than the file.
  what = error_of([&] { data::decode_png(kSignature + ihdr(4, 4) + chunk("tEXt", "k", 4096) + chunk("IEND", ""), "short.png"); });
  EXPECT_NE(what.find("short.png: PNG chunk tEXt declares 4096 bytes, but only"), std::string::npos) << what;
}

// A progressive JPEG of 20,000 scans decoded for 287 s; past 500 it is refused (TurboJPEG's limit).
// Made from Pillow's progressive JPEG by repeating its last scan before the end marker.
TEST(ImageDecode, ProgressiveJpegsOfTooManyScansAreRefused) {
  const std::string dir = glassbox::testing::scratch_dir("jpeg-scans");
  std::ofstream(dir + "/make.py") << "import io, sys\nfrom PIL import Image\nb = io.BytesIO()\n"
                                     "Image.new('RGB', (16, 16), (200, 10, 30)).save(b, 'JPEG', progressive=True)\n"
                                     "d = b.getvalue()\nlast = d.rfind(b'\\xff\\xda')\nscan = d[last:-2]\n"
                                     "for n in (400, 2000):\n"
                                     "    open(sys.argv[1] + '/scans-%d.jpg' % n, 'wb').write(d[:-2] + scan * n + d[-2:])\n";
  const auto r = glassbox::testing::run_command("/usr/bin/python3 " + dir + "/make.py " + dir);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(error_of([&] { data::decode_image(read_file(dir + "/scans-400.jpg"), "scans-400.jpg"); }), "");
  EXPECT_EQ(error_of([&] { data::decode_image(read_file(dir + "/scans-2000.jpg"), "scans-2000.jpg"); }),
            "scans-2000.jpg: a progressive JPEG of more than 500 scans, refused");
}

TEST(ImageDecode, DamagedFilesAreOneLineErrors) {
  const std::string dir = glassbox::testing::scratch_dir("png-damaged");
  std::ofstream(dir + "/make.py") << "import sys\nfrom PIL import Image\nImage.new('RGB', (64, 48), (200, 10, 30)).save(sys.argv[1])\n";
  ASSERT_EQ(glassbox::testing::run_command("/usr/bin/python3 " + dir + "/make.py " + dir + "/ok.png").exit_code, 0);
  const std::string good = read_file(dir + "/ok.png");
  ASSERT_EQ(error_of([&] { data::decode_png(good, "ok.png"); }), "");
  for (size_t n : {size_t(0), size_t(7), size_t(8), size_t(20), size_t(33), good.size() / 2, good.size() - 1}) {
    const std::string what = error_of([&] { data::decode_png(good.substr(0, n), "cut.png"); });
    EXPECT_EQ(what.rfind("cut.png: ", 0), 0u) << n << ": " << what;
    EXPECT_EQ(what.find('\n'), std::string::npos);
  }
  std::string flipped = good;
  flipped[good.size() / 2] ^= 0x10;  // inside IDAT: its CRC no longer matches
  EXPECT_NE(error_of([&] { data::decode_png(flipped, "flip.png"); }).find("flip.png: corrupt PNG"), std::string::npos);
  EXPECT_NE(error_of([&] { data::decode_png("not a png at all", "text.png"); }).find("text.png: not a PNG file"),
            std::string::npos);
  EXPECT_NE(error_of([&] { data::read_image_file(dir + "/missing.png"); }).find("missing.png: no such file"),
            std::string::npos);
}
