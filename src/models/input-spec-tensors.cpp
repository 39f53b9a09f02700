// How the specification turns images into inputs and inputs back into pixels.
#include "glassbox/models/input-spec.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cstring>
#include <functional>

#include "glassbox/util/error.h"

namespace glassbox::models {
namespace {

// Width x height x channels, as image sizes are said.
std::string image_size(int64_t c, int64_t h, int64_t w) {
  return std::to_string(w) + "x" + std::to_string(h) + "x" + std::to_string(c);
}

}  // namespace

at::Tensor InputSpec::to_input(const at::Tensor& pixels) const { return normalization().apply(pixels); }

at::Tensor InputSpec::to_display(const at::Tensor& input) const { return normalization().invert(input); }

InputShape InputSpec::prepared_shape(const data::DecodedImage& image) const {
  const data::DecodedImage im = preprocess_.apply(image);
  return InputShape{im.channels, im.height, im.width};
}

namespace {

// One image preprocessed for a model taking `shape`; a gray picture for an RGB model (or the reverse)
// converted as PIL's convert() does.
data::DecodedImage prepared(const data::Preprocess& preprocess, const data::DecodedImage& image, const InputShape& shape,
                            const std::string& name) {
  data::DecodedImage im = preprocess.apply(image);
  if (im.channels != shape.channels && (shape.channels == 1 || shape.channels == 3))
    im = data::Preprocess(preprocess).channels(shape.channels == 1 ? data::Channels::gray : data::Channels::rgb).apply(image);
  GLASSBOX_CHECK(im.channels == shape.channels && im.height == shape.height && im.width == shape.width, name,
                 ": ", image_size(im.channels, im.height, im.width), " after preprocessing, but the model takes ",
                 image_size(shape.channels, shape.height, shape.width),
                 " (width x height x channels; a resize and a crop make images one size)");
  return im;
}

}  // namespace

at::Tensor InputSpec::prepare(const std::vector<data::DecodedImage>& images, const InputShape& shape,
                              const std::vector<std::string>& names) const {
  GLASSBOX_CHECK(names.size() == images.size(), "prepare: ", images.size(), " images and ", names.size(),
                 " names, expected one name per image");
  return prepare_each(int64_t(images.size()), shape, [&](int64_t i) {
    return prepared(preprocess_, images[size_t(i)], shape, names[size_t(i)]);
  });
}

at::Tensor InputSpec::prepare_files(const std::vector<std::string>& paths, const InputShape& shape) const {
  // One file decoded at a time: a batch of photographs never holds more than one at full size.
  return prepare_each(int64_t(paths.size()), shape, [&](int64_t i) {
    return prepared(preprocess_, data::read_image_file(paths[size_t(i)]), shape, paths[size_t(i)]);
  });
}

at::Tensor InputSpec::prepare_each(int64_t count, const InputShape& shape,
                                   const std::function<data::DecodedImage(int64_t)>& image) const {
  GLASSBOX_CHECK(count > 0, "prepare: no images");
  at::Tensor x = at::empty({count, shape.height, shape.width, shape.channels}, at::kByte);
  for (int64_t i = 0; i < count; ++i) {
    const data::DecodedImage im = image(i);
    std::memcpy(x[i].data_ptr<uint8_t>(), im.pixels.data(), im.pixels.size());
  }
  // As Dataset::batch converts (ToTensor: a float divided by 255), then normalised.
  return to_input(x.permute({0, 3, 1, 2}).to(at::kFloat).div_(255.0f).contiguous()).contiguous();
}

}  // namespace glassbox::models
