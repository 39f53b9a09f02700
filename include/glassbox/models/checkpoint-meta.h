// What a glassbox checkpoint says about itself: the model it holds, how its inputs were prepared, where
// training stood, and (format 2) the size and SHA-256 of every entry of the archive. Free of libtorch:
// it is read and checked before libtorch sees the file.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "glassbox/data/normalization.h"
#include "glassbox/data/preprocess.h"
#include "glassbox/models/model-options.h"

namespace glassbox::models {

// One archive entry as glassbox wrote it.
struct EntryDigest {
  uint64_t size = 0;
  std::string sha256;  // 64 lower-case hexadecimal digits
};

struct CheckpointMeta {
  ModelOptions model{"linear", InputShape{}, 10};
  std::vector<std::string> class_names;  // one per class
  data::Normalization normalization;
  // How images became the model's inputs (channels, Resize, CenterCrop): applied to the images it is
  // later asked about. Its own normalize is unused: `normalization` is the one.
  data::Preprocess preprocess;
  int64_t epoch = 0;        // epochs completed when written
  int64_t global_step = 0;  // optimizer steps taken when written
  std::map<std::string, double> metrics;
  std::string optimizer = "adam";  // "adam" or "sgd"
  double learning_rate = 0;
  uint64_t seed = 0;
  std::map<std::string, EntryDigest> entries;  // every other entry of the archive (format 2)

  // `preprocess` with `normalization`: everything an image goes through to become an input.
  data::Preprocess input_preprocess() const { return data::Preprocess(preprocess).normalize(normalization); }

  std::string to_json() const;
  // Parses metadata from a file glassbox may not have written (format 2, or format 1 of glassbox 0.1,
  // which kept it inside the pickle): nesting bounded, every field's type, range and count checked.
  // Errors are one line naming `path` and the field, never echoing more than a short excerpt.
  static CheckpointMeta from_json(std::string_view text, const std::string& path);
};

}  // namespace glassbox::models
