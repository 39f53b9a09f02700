// What the explain, morph and confused commands share: the data flags, where the model comes from (a
// checkpoint or a TorchScript module), and the inputs (dataset samples or image files) prepared exactly
// as the model's inputs were.
#pragma once

#include <ATen/core/Tensor.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "glassbox/data/dataset.h"
#include "glassbox/data/load.h"
#include "glassbox/data/preprocess.h"
#include "glassbox/models/classifier.h"
#include "glassbox/models/model.h"
#include "glassbox/models/torchscript.h"

namespace CLI {
class App;
}

namespace glassbox::cli {

// --data and how images become inputs; shared by every command that reads data.
struct DataArgs {
  std::string data = "mnist";
  std::string split = "test";
  std::string preset;  // --preprocess: "", "none" or "imagenet"
  int resize = 0;
  int crop = 0;
  std::string channels = "keep";
  int64_t cache_mb = -1;
};

// Adds --data (and --split when `with_split`), --preprocess, --resize, --crop, --channels, --cache-mb.
void add_data_options(CLI::App& cmd, DataArgs& args, bool with_split);
// The preprocessing the flags ask for: the preset, then --resize, --crop and --channels over it.
data::Preprocess preprocess_of(const DataArgs& args);
// Whether any of --preprocess, --resize, --crop, --channels was given (the first such flag, or "").
std::string preprocess_flag_given(const DataArgs& args);
data::DatasetOptions dataset_options(const DataArgs& args, const data::Preprocess& preprocess, int threads);
data::Split split_of(const DataArgs& args);

struct ModelArgs {
  std::string checkpoint;
  std::string torchscript;
  // TorchScript models without a model.json beside them:
  std::string normalize;  // "MEAN,STD" or "M1,M2,M3,S1,S2,S3"
  std::string classes;    // a file of class names, one per line (data/class-names.h)
  DataArgs data;
  int threads = 0;
  c10::Device device = c10::Device(c10::kCPU);  // parsed once, as the flag is read
  // --check-timeout: the contained first load and probe of a TorchScript file (the library's default).
  int check_seconds = static_cast<int>(models::TorchScriptOptions().isolation_timeout_seconds());
  // --forward-timeout: one forward of a TorchScript module. The library sets no limit (ending the process
  // is its host's decision); the command line, which is the host, sets one.
  int forward_seconds = 600;
  std::string logits;
};

// The TorchScript loading options the flags ask for.
models::TorchScriptOptions torchscript_options(const ModelArgs& args);

void add_model_options(CLI::App& cmd, ModelArgs& args);

// Which samples to explain: dataset positions (--index: "17", "0:64" or "3,8,21") or image files.
struct InputArgs {
  std::string index = "0";
  std::vector<std::string> images;
};
void add_input_options(CLI::App& cmd, InputArgs& args, bool several);

// Checks what can be checked without reading anything (exactly one model, flags that fit the model's
// kind, the --index syntax). Throws glassbox::Error naming the flag.
void check_model_args(const ModelArgs& args);

struct Inputs {
  at::Tensor x;                     // [B, C, H, W], the model's input space, on its device
  std::vector<int64_t> labels;      // the true class, or -1 for an image file
  std::vector<std::string> names;   // the dataset index, or the image file's stem
};

// A model and what it reads.
struct Session {
  std::unique_ptr<models::Model> model;      // the network and its input specification
  std::optional<data::Dataset> split;        // --data/--split, when read ([0, 1] pixels)
  Inputs inputs;                             // when asked for
};

// Loads the model and, as asked, the inputs (`inputs` non-null) and/or the whole split (`need_split`).
// A TorchScript model's input shape comes from what it reads.
Session open_session(const ModelArgs& args, const InputArgs* inputs, bool need_split);

}  // namespace glassbox::cli
