// How images become model inputs, as torchvision's transforms do it: channel conversion (the loader's
// convert("RGB") or convert("L")), Resize, CenterCrop, then ToTensor and Normalize when batches are made.
// Free of libtorch: recorded in checkpoints and applied to the images `explain` is given.
#pragma once

#include <string>
#include <vector>

#include "glassbox/data/image-decode.h"
#include "glassbox/data/normalization.h"
#include "glassbox/util/arg.h"

namespace glassbox::data {

// What the channels become. `keep`: as decoded (gray stays gray, colour is RGB; a set that mixes them
// is an error that asks for one of the others).
enum class Channels { keep, gray, rgb };
const char* channels_name(Channels channels);
std::vector<std::string> channels_names();  // every name the parser takes, in order

struct Preprocess {
  GLASSBOX_ARG(Channels, channels) = Channels::keep;
  GLASSBOX_ARG(int, resize) = 0;  // Resize(resize): the shorter side to this many pixels; 0 = no resize
  GLASSBOX_ARG(int, crop) = 0;    // CenterCrop(crop): a square of this side; 0 = no crop
  GLASSBOX_ARG(Normalization, normalize);  // Normalize(mean, std) of the [0, 1] pixels; empty = none

 public:

  // Resize(256), CenterCrop(224), RGB, Normalize with ImageNet's mean (0.485, 0.456, 0.406) and std
  // (0.229, 0.224, 0.225): what ImageNet models expect.
  static Preprocess imagenet();

  // Whether images change before they become tensors (conversion, resize or crop).
  bool changes_images() const { return channels_ != Channels::keep || resize_ > 0 || crop_ > 0; }
  // Throws glassbox::Error naming `what` and the field when a size is out of range.
  void validate(const std::string& what = "preprocess") const;
  // Conversion, Resize, CenterCrop, in torchvision's order.
  DecodedImage apply(const DecodedImage& image) const;
};

// ImageNet's per-channel mean and standard deviation, as torchvision's models document them.
Normalization imagenet_normalization();

}  // namespace glassbox::data
