#include "model-source.h"

#include <ATen/ATen.h>
#include <CLI/CLI.hpp>

#include <filesystem>
#include <set>

#include "flags.h"
#include "glassbox/data/class-names.h"
#include "glassbox/data/image-decode.h"
#include "glassbox/models/checkpoint.h"
#include "glassbox/models/model-json.h"
#include "glassbox/models/model-source.h"
#include "glassbox/models/torchscript.h"
#include "glassbox/util/error.h"
#include "glassbox/util/threads.h"

namespace glassbox::cli {
namespace {

constexpr int64_t kMaxInputs = 1024;

// --index: "17", "0:64" (positions 0..63) or "3,8,21".
std::vector<int64_t> parse_index(const std::string& spec) {
  std::vector<int64_t> out;
  const size_t colon = spec.find(':');
  if (colon != std::string::npos) {
    const int64_t lo = parse_integer("--index", spec.substr(0, colon), 0, int64_t(1) << 40);
    const int64_t hi = parse_integer("--index", spec.substr(colon + 1), 0, int64_t(1) << 40);
    GLASSBOX_CHECK(lo < hi && hi - lo <= kMaxInputs, "--index ", printable_excerpt(spec),
                   ": expected A:B with A < B and at most ", kMaxInputs, " samples");
    for (int64_t i = lo; i < hi; ++i) out.push_back(i);
    return out;
  }
  size_t start = 0;
  while (start <= spec.size()) {
    const size_t comma = std::min(spec.find(',', start), spec.size());
    out.push_back(parse_integer("--index", spec.substr(start, comma - start), 0, int64_t(1) << 40));
    start = comma + 1;
  }
  GLASSBOX_CHECK(out.size() <= size_t(kMaxInputs), "--index: ", out.size(), " samples, at most ", kMaxInputs);
  return out;
}

std::string stem_of(const std::string& path) { return std::filesystem::path(path).stem().string(); }

}  // namespace

void add_data_options(CLI::App& cmd, DataArgs& a, bool with_split) {
  cmd.add_option("--data", a.data, "mnist, fashion-mnist, or a directory of IDX files, CIFAR batches or class folders "
                                   "of PNG/JPEG images")
      ->capture_default_str();
  if (with_split)
    cmd.add_option("--split", a.split, "train or test")->check(CLI::IsMember({"train", "test"}))->capture_default_str();
  cmd.add_option("--preprocess", a.preset,
                 "imagenet: Resize(256), CenterCrop(224), RGB, ImageNet's mean and std; none: the images as they are")
      ->check(CLI::IsMember({"none", "imagenet"}));
  add_integer(cmd, "--resize", a.resize, 0, 1 << 15, "Resize: the shorter side to this many pixels (0: no resize)");
  add_integer(cmd, "--crop", a.crop, 0, 1 << 15, "CenterCrop: a square of this side (0: no crop)");
  cmd.add_option("--channels", a.channels, "keep (gray stays gray), gray or rgb")
      ->check(CLI::IsMember(data::channels_names()))
      ->capture_default_str();
  add_integer(cmd, "--cache-mb", a.cache_mb, -1, int64_t(1) << 30,
              "image folders: decoded images kept in memory up to this many MB, else decoded per batch (-1: half the "
              "free memory)");
}

data::Preprocess preprocess_of(const DataArgs& a) {
  data::Preprocess p = a.preset == "imagenet" ? data::Preprocess::imagenet() : data::Preprocess();
  if (a.resize > 0) p.resize(a.resize);
  if (a.crop > 0) p.crop(a.crop);
  if (a.channels != "keep" || a.preset.empty() || a.preset == "none")
    p.channels(a.channels == "gray" ? data::Channels::gray : a.channels == "rgb" ? data::Channels::rgb : p.channels());
  return p;
}

std::string preprocess_flag_given(const DataArgs& a) {
  if (!a.preset.empty()) return "--preprocess";
  if (a.resize > 0) return "--resize";
  if (a.crop > 0) return "--crop";
  if (a.channels != "keep") return "--channels";
  return "";
}

data::DatasetOptions dataset_options(const DataArgs& a, const data::Preprocess& pre, int threads) {
  return data::DatasetOptions()
      .preprocess(pre)
      .threads(std::max(1, threads > 0 ? threads : static_cast<int>(std::thread::hardware_concurrency())))
      .cache_bytes(a.cache_mb < 0 ? -1 : a.cache_mb << 20);
}

data::Split split_of(const DataArgs& a) { return a.split == "train" ? data::Split::train : data::Split::test; }

void add_model_options(CLI::App& cmd, ModelArgs& a) {
  cmd.add_option("--checkpoint", a.checkpoint, "a glassbox checkpoint (from glassbox train)");
  cmd.add_option("--torchscript", a.torchscript,
                 "a TorchScript module (torch.jit.save) taking [B, C, H, W]; a program: only from people you trust");
  cmd.add_option("--normalize", a.normalize, "TorchScript input normalisation: MEAN,STD (or per channel: M1,..,S1,..)");
  cmd.add_option("--classes", a.classes, "TorchScript: a file of class names, one per line");
  add_data_options(cmd, a.data, true);
  add_integer(cmd, "--threads", a.threads, 0, max_threads(), "compute threads (0 = one per core)");
  add_device(cmd, "--device", a.device, "cpu or cuda[:N]");
  add_integer(cmd, "--check-timeout", a.check_seconds, 1, 3600,
              "TorchScript: seconds allowed for its contained first load and trial runs (a longer one is refused)")
      ->capture_default_str();
  add_integer(cmd, "--forward-timeout", a.forward_seconds, 0, 86400,
              "TorchScript: seconds one forward may take before glassbox stops (0 = no limit)")
      ->capture_default_str();
  cmd.add_option("--logits", a.logits,
                 "TorchScript whose forward returns a tuple or dict: the logits' index or key (default: the first "
                 "[B, classes] tensor)");
}

models::TorchScriptOptions torchscript_options(const ModelArgs& a) {
  return models::TorchScriptOptions().isolation_timeout_seconds(a.check_seconds).forward_timeout_seconds(a.forward_seconds).logits(a.logits);
}

void add_input_options(CLI::App& cmd, InputArgs& a, bool several) {
  cmd.add_option("--index", a.index,
                 several ? "samples of the split: 17, 0:64 (positions 0 to 63) or 3,8,21" : "a sample of the split")
      ->capture_default_str();
  auto* images = cmd.add_option("--image", a.images, several ? "PNG or JPEG files instead of dataset samples"
                                                             : "a PNG or JPEG file instead of a dataset sample");
  if (!several) images->expected(1);
}

void check_model_args(const ModelArgs& a) {
  GLASSBOX_CHECK(a.checkpoint.empty() != a.torchscript.empty(), "give exactly one of --checkpoint and --torchscript");
  if (!a.checkpoint.empty()) {
    GLASSBOX_CHECK(a.normalize.empty(), "--normalize is for TorchScript models: a checkpoint records its own");
    GLASSBOX_CHECK(a.classes.empty(), "--classes is for TorchScript models: a checkpoint records its own");
    GLASSBOX_CHECK(a.logits.empty(), "--logits is for TorchScript models: a checkpoint's network returns its logits");
    const std::string flag = preprocess_flag_given(a.data);
    GLASSBOX_CHECK(flag.empty(), flag, " is for TorchScript models: a checkpoint records how its images were prepared");
  }
}

namespace {

// Where the model comes from; a TorchScript file without model.json is described by the flags.
models::ModelSource source_of(const ModelArgs& a) {
  models::ModelSource source =
      models::ModelSource().checkpoint(a.checkpoint).torchscript(a.torchscript).torchscript_options(torchscript_options(a));
  if (a.torchscript.empty()) return source;
  const std::string sidecar = models::model_json_path(a.torchscript);
  std::error_code ec;
  const std::string flag = !a.normalize.empty() ? "--normalize" : !a.classes.empty() ? "--classes" : preprocess_flag_given(a.data);
  if (std::filesystem::exists(sidecar, ec)) {
    GLASSBOX_CHECK(flag.empty(), flag, ": ", sidecar, " describes this model's inputs and classes; edit it instead");
    return source;
  }
  data::Preprocess preprocess = preprocess_of(a.data);
  if (!a.normalize.empty()) {
    const std::vector<double> v = parse_reals("--normalize", a.normalize);
    GLASSBOX_CHECK(v.size() % 2 == 0, "--normalize ", a.normalize, ": expected MEAN,STD or one mean and one std per channel");
    data::Normalization n;
    n.mean.assign(v.begin(), v.begin() + static_cast<long>(v.size() / 2));
    n.std.assign(v.begin() + static_cast<long>(v.size() / 2), v.end());
    n.validate(static_cast<int64_t>(n.mean.size()), "--normalize " + a.normalize);
    preprocess.normalize(n);
  }
  std::vector<std::string> names;
  if (!a.classes.empty()) names = data::read_class_names(a.classes);
  return source.spec(models::InputSpec().preprocess(preprocess).class_names(names));
}

}  // namespace

Session open_session(const ModelArgs& a, const InputArgs* in, bool need_split) {
  check_model_args(a);
  configure_threads(a.threads);
  std::vector<int64_t> positions;
  if (in != nullptr && in->images.empty()) positions = parse_index(in->index);
  GLASSBOX_CHECK(in == nullptr || in->images.size() <= size_t(kMaxInputs), "--image: ", in ? in->images.size() : 0,
                 " files, at most ", kMaxInputs);
  const bool images = in != nullptr && !in->images.empty();

  models::ModelOpener opener(source_of(a));
  Session s;
  // The split, its images prepared as the model's were (normalised when made inputs).
  if (need_split || (in != nullptr && !images))
    s.split = data::load_dataset(a.data.data, split_of(a.data),
                                 dataset_options(a.data, data::Preprocess(opener.spec().preprocess()).normalize({}), a.threads))
                  .dataset;
  // Without a recorded input shape, a TorchScript model's is that of what it is given.
  std::optional<models::InputShape> shape = opener.input_shape();
  if (!shape && images) shape = opener.spec().prepared_shape(data::read_image_file(in->images.front()));
  if (!shape && s.split) shape = models::InputShape{s.split->channels(), s.split->height(), s.split->width()};
  try {
    s.model = std::make_unique<models::Model>(opener.open(shape, s.split ? s.split->class_names() : std::vector<std::string>()));
  } catch (Error& e) {
    throw e.add_context(a.classes.empty() ? (a.checkpoint.empty() ? "--torchscript " + a.torchscript : "--checkpoint " + a.checkpoint)
                                          : "--classes " + a.classes);
  }
  const models::InputShape ms = s.model->input_shape();
  if (s.split)
    GLASSBOX_CHECK(s.split->channels() == ms.channels && s.split->height() == ms.height && s.split->width() == ms.width,
                   "--data ", a.data.data, ": images are ", s.split->channels(), "x", s.split->height(), "x",
                   s.split->width(), ", but the model takes ", ms.channels, "x", ms.height, "x", ms.width,
                   a.checkpoint.empty() ? " (give --resize/--crop or --preprocess)" : "");
  s.model->to(a.device);
  if (images) {
    s.inputs.x = s.model->prepare_files(in->images);
    s.inputs.labels.assign(in->images.size(), -1);
    std::set<std::string> seen;
    for (size_t i = 0; i < in->images.size(); ++i) {
      std::string name = stem_of(in->images[i]);
      if (!seen.insert(name).second) name += "-" + std::to_string(i);
      s.inputs.names.push_back(name);
    }
  } else if (in != nullptr) {
    for (int64_t p : positions)
      GLASSBOX_CHECK(p < s.split->size(), "--index ", p, ": past the ", a.data.split, " split of ", a.data.data,
                     ", which has ", s.split->size(), " samples (0..", s.split->size() - 1, ")");
    const data::Batch b = s.split->batch(at::tensor(positions, at::kLong));
    s.inputs.x = s.model->spec().to_input(b.x).to(a.device);
    for (int64_t i = 0; i < b.y.size(0); ++i) s.inputs.labels.push_back(b.y[i].item<int64_t>());
    for (int64_t p : positions) s.inputs.names.push_back(std::to_string(p));
  }
  return s;
}

}  // namespace glassbox::cli
