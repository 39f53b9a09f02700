#include "glassbox/data/preprocess.h"

#include "glassbox/data/transforms.h"
#include "glassbox/util/enum-names.h"
#include "glassbox/util/error.h"

namespace glassbox::data {

namespace {
const char* const kChannelsNames[] = {"keep", "gray", "rgb"};  // Channels' order
}  // namespace

std::vector<std::string> channels_names() { return enum_names(kChannelsNames); }
const char* channels_name(Channels c) { return enum_name(kChannelsNames, c); }

Normalization imagenet_normalization() { return {{0.485, 0.456, 0.406}, {0.229, 0.224, 0.225}}; }

Preprocess Preprocess::imagenet() {
  return Preprocess().channels(Channels::rgb).resize(256).crop(224).normalize(imagenet_normalization());
}

void Preprocess::validate(const std::string& what) const {
  GLASSBOX_CHECK(resize_ >= 0 && resize_ <= 1 << 15, what, ": resize ", resize_, ", expected 0 (none) to ", 1 << 15);
  GLASSBOX_CHECK(crop_ >= 0 && crop_ <= 1 << 15, what, ": crop ", crop_, ", expected 0 (none) to ", 1 << 15);
  // With kept channels the count is known only once images are read: checked against them then.
  const int64_t channels = channels_ == Channels::gray ? 1 : channels_ == Channels::rgb ? 3 : int64_t(normalize_.mean.size());
  normalize_.validate(channels, what);
}

DecodedImage Preprocess::apply(const DecodedImage& image) const {
  // Converted only when the channels change: a photograph is not copied to stay RGB.
  const int channels = channels_ == Channels::gray ? 1 : channels_ == Channels::rgb ? 3 : image.channels;
  DecodedImage converted;
  if (channels != image.channels) converted = convert_channels(image, channels);
  const DecodedImage& in = channels != image.channels ? converted : image;
  if (resize_ > 0) {
    int w = 0, h = 0;
    resized_shape(in.width, in.height, resize_, w, h);
    return crop_ > 0 ? resize_and_crop(in, w, h, crop_, crop_) : data::resize(in, w, h);
  }
  return crop_ > 0 ? center_crop(in, crop_, crop_) : in;
}

}  // namespace glassbox::data
