// The pretrained face-expression network (scripts/convert-face-expression, made by make setup from npm's
// @vladmandic/face-api) against the package's own inference: face-api's FaceExpressionNet on TensorFlow.js's
// pure-JavaScript CPU backend, run by node at test time (scripts/face-expression-tfjs.js). Real faces:
// the astronaut's (data/faces/astronaut.png) and five of skimage's LFW faces, as 112 x 112 PNGs, read by
// glassbox through the model's model.json (RGB, mean subtracted) exactly as the commands read images.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "glassbox/explain/methods.h"
#include "glassbox/models/model-source.h"
#include "tensor-files.h"
#include "test-support.h"

using namespace glassbox;

namespace {

const std::string kData = GLASSBOX_SOURCE_DIR "/data";

const char* const kFaces = R"(import sys, numpy as np
from skimage import io, transform
d, data = sys.argv[1], sys.argv[2]
faces = [io.imread(data + '/faces/astronaut.png')]
lfw = np.load('/usr/lib/python3/dist-packages/skimage/data/lfw_subset.npy')  # 100 faces, then 100 non-faces
faces += [np.stack([lfw[i] * 255] * 3, -1) for i in range(0, 100, 20)]
pixels = []
for i, f in enumerate(faces):
    f = np.clip(np.round(transform.resize(f, (112, 112), order=1, preserve_range=True)), 0, 255).astype(np.uint8)
    io.imsave(f'{d}/face{i}.png', f, check_contrast=False)
    pixels.append(f.astype(np.float32))
np.stack(pixels).tofile(d + '/faces.raw')
)";

}  // namespace

TEST(FaceExpression, TheConversionGivesThePackagesProbabilities) {
  const std::string dir = glassbox::testing::scratch_dir("face-expression");
  std::ofstream(dir + "/faces.py") << kFaces;
  auto r = glassbox::testing::run_command("/usr/bin/python3 " + dir + "/faces.py " + dir + " " + kData + " 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = glassbox::testing::run_command("node " GLASSBOX_SOURCE_DIR "/scripts/face-expression-tfjs.js " + kData +
                                     "/face-api/node_modules " + dir + "/faces.raw 6 " + dir + "/tfjs.raw 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("backend cpu"), std::string::npos) << r.output;
  const at::Tensor want = glassbox::testing::raw_floats(dir + "/tfjs.raw", {6, 7});

  models::Model model = models::ModelOpener(models::ModelSource().torchscript(kData + "/models/face-expression.pt")).open();
  ASSERT_EQ(model.spec().class_names(), (std::vector<std::string>{"neutral", "happy", "sad", "angry", "fearful", "disgusted", "surprised"}));
  std::vector<std::string> files;
  for (int i = 0; i < 6; ++i) files.push_back(dir + "/face" + std::to_string(i) + ".png");
  const at::Tensor x = model.prepare_files(files);
  const at::Tensor got = at::softmax(model.predict(x), 1);
  const double difference = (got - want).abs().max().item<double>();
  std::printf("largest difference from the package's probabilities: %.3g\n", difference);
  EXPECT_LT(difference, 1e-4);
  // The faces are read as different expressions (not one class for all), the astronaut's as happy.
  EXPECT_EQ(want[0].argmax().item<int64_t>(), 1);
  EXPECT_GT(std::get<0>(at::_unique(want.argmax(1))).numel(), 1);
  // Its explanations: Grad-CAM at the last block is a map over the face, not zeros.
  const at::Tensor cam = explain::attribute("gradcam", model.network(), x.narrow(0, 0, 1), at::tensor({int64_t(1)}));
  EXPECT_GT(cam.max().item<double>(), 0);
}
