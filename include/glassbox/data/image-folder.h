// Image folders in torchvision's ImageFolder convention: ROOT/<class>/**/*.{png,jpg,jpeg}, classes
// sorted by name, files sorted by path (the order ImageFolder gives them).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "glassbox/data/dataset.h"
#include "glassbox/data/preprocess.h"

namespace glassbox::data {

struct ImageFolderIndex {
  std::vector<std::string> classes;  // folder names, sorted
  std::vector<std::string> files;    // every image, class by class
  std::vector<int64_t> labels;       // the class of each file
};

// Scans `root`. Extensions are matched without case; other files are skipped, as ImageFolder skips
// them; linked folders are not followed (they could loop). Throws glassbox::Error naming the folder for
// a root that is not a directory, fewer than two class folders, a class folder without images, a class
// name that is not UTF-8, or more than 10 million files.
ImageFolderIndex scan_image_folder(const std::string& root);

struct ImageLoadOptions {
  GLASSBOX_ARG(Preprocess, preprocess);
  GLASSBOX_ARG(int, threads) = 1;          // decoding threads
  // Decoded images (uint8) are kept in memory when they fit in this many bytes, and decoded per batch
  // otherwise; -1: half the memory available on this machine.
  GLASSBOX_ARG(int64_t, cache_bytes) = -1;
};

// The folder as a dataset: every image decoded, converted, resized and cropped as `preprocess` says
// (its normalisation is not applied here). All images must come out the same size and channel count;
// otherwise an error names the first that does not and asks for a resize. Decoding errors name the file.
Dataset load_image_folder(const std::string& root, const ImageLoadOptions& options = {});

// Half of MemAvailable (/proc/meminfo), or 1 GiB when it cannot be read.
int64_t default_cache_bytes();

}  // namespace glassbox::data
