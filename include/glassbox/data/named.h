// Finding datasets by name (`mnist`, `fashion-mnist`) or by path to any IDX directory.
#pragma once

#include <string>

#include "glassbox/data/dataset.h"

namespace glassbox::data {

enum class Split { train, test };

// Resolves a dataset name or path to an IDX directory. Names are looked up under $GLASSBOX_DATA,
// then ./data.
std::string resolve_dataset_dir(const std::string& name_or_path);

// Loads `<dir>/train-*` or `<dir>/t10k-*` (images and labels, raw or .gz) with full validation.
// Class names come from `<dir>/classes.txt` when present (one per line), else "0", "1", ...
Dataset load_idx_dataset(const std::string& name_or_path, Split split);

// The default train/validation sizes for a training file of n images: the seed's 55,000/5,000 for
// 60,000, and the same 11/12 ratio otherwise.
std::vector<int64_t> default_train_val_sizes(int64_t n);

}  // namespace glassbox::data
