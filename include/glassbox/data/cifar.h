// CIFAR-10 and CIFAR-100 in their binary versions: rows of a label byte (CIFAR-100: coarse and fine
// label bytes) and 3,072 pixel bytes (32 x 32, the red plane, then green, then blue).
//   CIFAR-10:  data_batch_1.bin .. data_batch_5.bin (train), test_batch.bin, batches.meta.txt (names)
//   CIFAR-100: train.bin, test.bin, fine_label_names.txt (glassbox uses the 100 fine labels)
#pragma once

#include <string>

#include "glassbox/data/dataset.h"
#include "glassbox/data/named.h"

namespace glassbox::data {

enum class CifarKind { none, cifar10, cifar100 };

// Which CIFAR layout `dir` holds, if any.
CifarKind detect_cifar(const std::string& dir);

// Reads a split. Throws glassbox::Error naming the file for a missing batch, a length that is not a
// whole number of rows, a label out of range, or a names file with the wrong number of names.
Dataset load_cifar(const std::string& dir, CifarKind kind, Split split);

}  // namespace glassbox::data
