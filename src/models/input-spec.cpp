// The specification's values and checks, free of libtorch: a model.json is checked before anything is
// loaded (and fuzzed on its own). Its tensor work is in input-spec-tensors.cpp.
#include "glassbox/models/input-spec.h"

#include <algorithm>

#include "glassbox/util/error.h"

namespace glassbox::models {

InputSpec InputSpec::imagenet() { return InputSpec().preprocess(data::Preprocess::imagenet()); }

std::string InputSpec::class_name(int64_t c) const {
  return c >= 0 && c < int64_t(class_names_.size()) ? class_names_[size_t(c)] : std::to_string(c);
}

void InputSpec::validate(const InputShape& shape, int64_t num_classes, const std::string& what) const {
  preprocess_.validate(what + " preprocess");
  normalization().validate(shape.channels, what + " normalization");
  const data::Channels ch = preprocess_.channels();
  GLASSBOX_CHECK(ch == data::Channels::keep || shape.channels == (ch == data::Channels::gray ? 1 : 3), what,
                 ": preprocess channels ", data::channels_name(ch), " for a model taking ", shape.channels, " channel(s)");
  // What images become: a crop of C gives C x C, a resize without a crop makes the shorter side R.
  const int64_t resize = preprocess_.resize(), crop = preprocess_.crop();
  GLASSBOX_CHECK(crop == 0 || (crop == shape.height && crop == shape.width), what, ": preprocess crop ", crop, " makes ",
                 crop, "x", crop, " inputs, but the model takes ", shape.height, "x", shape.width);
  GLASSBOX_CHECK(crop != 0 || resize == 0 || resize == std::min(shape.height, shape.width), what, ": preprocess resize ",
                 resize, " makes the shorter side ", resize, ", but the model takes ", shape.height, "x", shape.width);
  // A resize followed by a crop is bounded too: a file claiming resize 32768 with crop 224 would make every
  // image tens of gigapixels before the crop (checkpoint metadata keeps the same bound).
  GLASSBOX_CHECK(resize <= 8 * std::max(shape.height, shape.width), what, ": preprocess resize ", resize, " for ",
                 shape.height, "x", shape.width, " inputs, expected at most 8 times their side");
  GLASSBOX_CHECK(num_classes <= 0 || class_names_.empty() || int64_t(class_names_.size()) == num_classes, what, ": ",
                 class_names_.size(), " class names for a model of ", num_classes, " classes");
}

}  // namespace glassbox::models
