// torchvision's transforms against Debian's python3-torchvision on the same files: the real photographs
// python3-skimage ships (PNG and JPEG, RGB, gray, RGBA, palette, 16-bit), through the loader's
// convert(), Resize (shrinking and enlarging) and CenterCrop, compared pixel by pixel before
// normalisation: within 1/255 (Pillow's own fixed-point result; measured exact).
#include <gtest/gtest.h>

#include <fstream>

#include "glassbox/data/image-decode.h"
#include "glassbox/data/preprocess.h"
#include "glassbox/data/transforms.h"
#include "glassbox/util/file-bytes.h"
#include "test-support.h"

using namespace glassbox;

namespace {

const std::string kSkimage = "/usr/lib/python3/dist-packages/skimage/data";

struct Case {
  std::string file, mode;  // mode: PIL's convert() target, "RGB" or "L"
  int resize, crop;        // 0: none
};

}  // namespace

TEST(Transforms, EqualTorchvisionOnRealPhotographs) {
  const std::string dir = glassbox::testing::scratch_dir("transforms-torchvision");
  const std::vector<Case> cases = {
      {"astronaut.png", "RGB", 256, 224}, {"chelsea.png", "RGB", 256, 224},   {"coffee.png", "RGB", 64, 0},
      {"rocket.jpg", "RGB", 256, 224},    {"retina.jpg", "RGB", 300, 0},      {"hubble_deep_field.jpg", "RGB", 0, 224},
      {"camera.png", "L", 100, 90},       {"horse.png", "RGB", 128, 128},     {"palette_color.png", "RGB", 37, 0},
      {"chessboard_RGB.png", "RGB", 87, 0}, {"motorcycle_left.png", "L", 224, 224}, {"coins.png", "RGB", 500, 499},
      {"page.png", "L", 0, 0},
  };
  std::ofstream script(dir + "/reference.py");
  script << "import sys\nfrom PIL import Image\nimport torch, torchvision.transforms as T\n"
         << "for i, (f, mode, r, c) in enumerate([";
  for (const Case& c : cases)
    script << "('" << kSkimage << "/" << c.file << "', '" << c.mode << "', " << c.resize << ", " << c.crop << "), ";
  script << "]):\n"
         << "    t = [T.Resize(r)] if r else []\n"
         << "    t += [T.CenterCrop(c)] if c else []\n"
         << "    x = T.Compose(t + [T.ToTensor()])(Image.open(f).convert(mode))\n"
         << "    b = (x * 255).round().to(torch.uint8)\n"
         << "    open(f'" << dir << "/{i}.raw', 'wb').write(bytes([b.shape[0]]) + b.shape[1].to_bytes(4, 'little') + "
         << "b.shape[2].to_bytes(4, 'little') + b.numpy().tobytes())\n";
  script.close();
  const auto r = glassbox::testing::run_command("/usr/bin/python3 " + dir + "/reference.py");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    SCOPED_TRACE(c.file);
    const data::Preprocess pre = data::Preprocess()
                                     .channels(c.mode == "L" ? data::Channels::gray : data::Channels::rgb)
                                     .resize(c.resize)
                                     .crop(c.crop);
    const data::DecodedImage ours = pre.apply(data::read_image_file(kSkimage + "/" + c.file));
    const std::string truth = read_file(dir + "/" + std::to_string(i) + ".raw");
    const int channels = truth[0];
    uint32_t h = 0, w = 0;
    std::memcpy(&h, truth.data() + 1, 4);
    std::memcpy(&w, truth.data() + 5, 4);
    ASSERT_EQ(ours.channels, channels);
    ASSERT_EQ(ours.height, int(h));
    ASSERT_EQ(ours.width, int(w));
    int worst = 0;
    size_t differing = 0;
    const size_t plane = size_t(h) * w;
    for (size_t k = 0; k < plane; ++k)
      for (int ch = 0; ch < channels; ++ch) {
        const int theirs = static_cast<uint8_t>(truth[9 + size_t(ch) * plane + k]);
        const int mine = ours.pixels[k * size_t(channels) + size_t(ch)];
        worst = std::max(worst, std::abs(theirs - mine));
        differing += theirs != mine;
      }
    EXPECT_LE(worst, 1) << "largest difference in 1/255 steps";
    EXPECT_EQ(differing, 0u) << "pixels that differ at all (Pillow's arithmetic is reproduced exactly)";
  }
}

TEST(Transforms, ShapesAndCropsAsTorchvisionComputesThem) {
  int w = 0, h = 0;
  data::resized_shape(512, 384, 256, w, h);  // landscape: the height becomes 256
  EXPECT_EQ(w, 341);
  EXPECT_EQ(h, 256);
  data::resized_shape(300, 451, 224, w, h);  // portrait
  EXPECT_EQ(w, 224);
  EXPECT_EQ(h, 336);
  // CenterCrop rounds the offset half to even, as Python's round(): (7 - 4) / 2 = 1.5 -> 2, (5 - 4) / 2 = 0.5 -> 0.
  data::DecodedImage im{7, 5, 1, {}};
  for (int i = 0; i < 35; ++i) im.pixels.push_back(static_cast<uint8_t>(i));
  const data::DecodedImage c = data::center_crop(im, 4, 4);
  EXPECT_EQ(c.pixels[0], 0 * 7 + 2);
  // A window larger than the image is padded with zeros.
  const data::DecodedImage padded = data::center_crop(im, 9, 5);
  EXPECT_EQ(padded.pixels[0], 0);
  EXPECT_EQ(padded.pixels[1], 0);  // round(-1.0) = -1: one column of padding on the left
}
