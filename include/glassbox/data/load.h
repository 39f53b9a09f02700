// One entry point for every dataset glassbox reads. The format is detected from what a directory holds
// and reported: IDX files (the MNIST family), CIFAR-10/100 binary batches, or an image folder in
// torchvision's ImageFolder convention (flat, or with train/ and val/ or test/ inside).
#pragma once

#include <string>

#include "glassbox/data/dataset.h"
#include "glassbox/data/named.h"
#include "glassbox/data/preprocess.h"
#include "glassbox/util/arg.h"

namespace glassbox::data {

enum class DataFormat { idx, image_folder, cifar10, cifar100 };
const char* format_name(DataFormat format);  // "IDX", "image folder", "CIFAR-10", "CIFAR-100"

struct DatasetOptions {
  // Applied to every format when the images are read: channel conversion, Resize and CenterCrop. Its
  // normalisation is not the dataset's (batches are [0, 1] pixels): the model's InputSpec applies it.
  GLASSBOX_ARG(Preprocess, preprocess);
  GLASSBOX_ARG(int, threads) = 1;           // decoding threads
  GLASSBOX_ARG(int64_t, cache_bytes) = -1;  // image folders: decoded images kept up to this (-1: half the free memory)
};

struct LoadedDataset {
  Dataset dataset;
  DataFormat format = DataFormat::idx;
  std::string directory;  // where this split was read from
};

// `name_or_path`: mnist or fashion-mnist (looked up under $GLASSBOX_DATA, then ./data), or a directory.
// For an image folder without train/ and val/ or test/ inside, both splits are the whole folder.
// Errors name the directory or file and what was expected.
LoadedDataset load_dataset(const std::string& name_or_path, Split split, const DatasetOptions& options = {});

// Applies a preprocessing that changes images (conversion, resize, crop) to an in-memory dataset.
Dataset preprocess_in_memory(const Dataset& dataset, const Preprocess& preprocess, int threads, const std::string& what);

}  // namespace glassbox::data
