#include "model-source.h"

#include <ATen/ATen.h>
#include <CLI/CLI.hpp>

#include <filesystem>

#include "glassbox/data/named.h"
#include "glassbox/models/checkpoint.h"
#include "glassbox/models/torchscript.h"
#include "glassbox/data/image-decode.h"
#include "glassbox/train/trainer.h"
#include "glassbox/util/error.h"
#include "glassbox/util/threads.h"
#include "flags.h"

namespace glassbox::cli {

void add_model_options(CLI::App& cmd, ModelArgs& a) {
  cmd.add_option("--checkpoint", a.checkpoint, "a glassbox checkpoint (from glassbox train)");
  cmd.add_option("--torchscript", a.torchscript, "a TorchScript module (torch.jit.save) taking [B, C, H, W]");
  cmd.add_option("--normalize", a.normalize, "TorchScript input normalisation: MEAN,STD (or per channel: M1,..,S1,..)");
  cmd.add_option("--data", a.data, "mnist, fashion-mnist, or an IDX directory")->capture_default_str();
  cmd.add_option("--split", a.split, "train or test")->check(CLI::IsMember({"train", "test"}))->capture_default_str();
  add_integer(cmd, "--threads", a.threads, 0, max_threads(), "compute threads (0 = one per core)");
  cmd.add_option("--device", a.device, "cpu or cuda[:N]")->capture_default_str();
}

LoadedModel load_model(const ModelArgs& a) {
  configure_threads(a.threads);
  const c10::Device device = train::parse_device(a.device);
  GLASSBOX_CHECK(a.checkpoint.empty() != a.torchscript.empty(), "give exactly one of --checkpoint and --torchscript");
  LoadedModel m;
  if (!a.checkpoint.empty()) {
    GLASSBOX_CHECK(a.normalize.empty(), "--normalize is for TorchScript models: a checkpoint records its own");
    models::Checkpoint c = models::load_checkpoint(a.checkpoint);
    m.normalization = c.meta.normalization;
    m.class_names = c.meta.class_names;
    m.model = std::move(c.model);
    m.model->to(device);
    return m;
  }
  const data::Dataset probe = data::load_idx_dataset(a.data, a.split == "train" ? data::Split::train : data::Split::test);
  if (!a.normalize.empty()) {
    const std::vector<double> v = parse_reals("--normalize", a.normalize);
    GLASSBOX_CHECK(v.size() % 2 == 0 && !v.empty(), "--normalize ", a.normalize,
                   ": expected MEAN,STD or one mean and one std per channel");
    m.normalization.mean.assign(v.begin(), v.begin() + static_cast<long>(v.size() / 2));
    m.normalization.std.assign(v.begin() + static_cast<long>(v.size() / 2), v.end());
    m.normalization.validate(probe.channels(), "--normalize " + a.normalize);
  }
  m.model = std::make_unique<models::TorchScriptClassifier>(
      a.torchscript, models::InputShape{probe.channels(), probe.height(), probe.width()});
  m.model->to(device);
  m.class_names = probe.class_names();  // explain::class_name falls back to the index past the end
  m.split = probe;
  return m;
}

data::Dataset load_split(const ModelArgs& a, const LoadedModel& m) {
  data::Dataset d =
      m.split ? *m.split : data::load_idx_dataset(a.data, a.split == "train" ? data::Split::train : data::Split::test);
  const models::InputShape s = m.model->input_shape();
  GLASSBOX_CHECK(d.channels() == s.channels && d.height() == s.height && d.width() == s.width, a.data, ": images are ",
                 d.channels(), "x", d.height(), "x", d.width(), ", but the model takes ", s.channels, "x", s.height, "x",
                 s.width);
  d.set_normalization(m.normalization);
  return d;
}

at::Tensor load_sample(const ModelArgs& a, const LoadedModel& m, int64_t index, const std::string& image_path,
                       int64_t& label) {
  const models::InputShape s = m.model->input_shape();
  if (!image_path.empty()) {
    const data::DecodedImage png = data::read_image_file(image_path);
    GLASSBOX_CHECK(png.width == s.width && png.height == s.height, image_path, ": image is ", png.width, "x", png.height,
                   ", but the model takes ", s.width, "x", s.height);
    at::Tensor hwc = at::from_blob(const_cast<uint8_t*>(png.pixels.data()), {png.height, png.width, png.channels}, at::kByte);
    at::Tensor chw = hwc.permute({2, 0, 1}).to(at::kFloat).div(255.0);
    if (s.channels == 1 && png.channels == 3) chw = chw.mean(0, true);  // an RGB picture for a gray model
    GLASSBOX_CHECK(chw.size(0) == s.channels, image_path, ": ", png.channels, " channel(s), but the model takes ",
                   s.channels);
    label = -1;
    return m.normalization.apply(chw.unsqueeze(0).contiguous()).to(train::parse_device(a.device));
  }
  const data::Dataset d = load_split(a, m);
  GLASSBOX_CHECK(index >= 0 && index < d.size(), "--index ", index, ": past the ", a.split, " split of ", a.data,
                 ", which has ", d.size(), " samples (0..", d.size() - 1, ")");
  const data::Batch b = d.batch(index, index + 1);
  label = b.y[0].item<int64_t>();
  return b.x.to(train::parse_device(a.device));
}

}  // namespace glassbox::cli
