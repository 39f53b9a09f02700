// A model's input contract: how a decoded image becomes what the network reads (torchvision's
// transforms: channel conversion, Resize, CenterCrop, ToTensor, Normalize), how an input goes back to
// pixels a person can look at, and what the classes are called. A checkpoint stores one; a TorchScript
// model gets one in code or from the model.json written beside it (model-json.h); every figure, morph and
// explanation reads it from the model rather than from options carried beside it.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "glassbox/data/image-decode.h"
#include "glassbox/data/normalization.h"
#include "glassbox/data/preprocess.h"
#include "glassbox/models/model-options.h"
#include "glassbox/util/arg.h"

namespace at {
class Tensor;
}

namespace glassbox::models {

struct InputSpec {
  // Channel conversion, Resize, CenterCrop and Normalize, as torchvision names them.
  GLASSBOX_ARG(data::Preprocess, preprocess);
  // One per class, or empty: classes are then shown by index.
  GLASSBOX_ARG(std::vector<std::string>, class_names);

 public:
  // torchvision's ImageNet models: Resize(256), CenterCrop(224), RGB, ImageNet's mean and std.
  static InputSpec imagenet();

  const data::Normalization& normalization() const { return preprocess_.normalize(); }
  // names[c] when there is one, else c as a number.
  std::string class_name(int64_t c) const;

  // Throws glassbox::Error naming `what` and the field unless the specification fits a model taking
  // `shape` with `num_classes` classes (normalisation per channel or one value, one name per class or
  // none, sizes that can produce the shape).
  void validate(const InputShape& shape, int64_t num_classes, const std::string& what) const;

  // [B, C, H, W] float pixels in [0, 1] -> the model's input (normalised). Any device.
  at::Tensor to_input(const at::Tensor& pixels) const;
  // The model's input -> [B, C, H, W] pixels in [0, 1] for display (normalisation inverted).
  at::Tensor to_display(const at::Tensor& input) const;

  // Decoded images -> one [B, C, H, W] input batch for a model taking `shape`: preprocessed, a gray
  // picture given to an RGB model (or the reverse) converted as PIL's convert() does, converted as
  // ToTensor does, normalised. `names` (one per image: a file's path) are what errors name; an image
  // that does not come out as `shape` is an error naming it and the sizes.
  at::Tensor prepare(const std::vector<data::DecodedImage>& images, const InputShape& shape,
                     const std::vector<std::string>& names) const;
  // The same from PNG or JPEG files (read with the decoder's bounds).
  at::Tensor prepare_files(const std::vector<std::string>& paths, const InputShape& shape) const;
  // The shape the first of these images comes out as after preprocessing (for a model that takes
  // whatever it is given, such as a TorchScript file without model.json).
  InputShape prepared_shape(const data::DecodedImage& image) const;

 private:
  at::Tensor prepare_each(int64_t count, const InputShape& shape,
                          const std::function<data::DecodedImage(int64_t)>& image) const;
};

}  // namespace glassbox::models
