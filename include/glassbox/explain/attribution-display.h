// How an attribution over C x H x W becomes one picture, in the vocabulary of Captum's
// visualize_image_attr: the channels are summed, a sign is chosen, and the values are scaled so that
// the largest ones (the top `outlier_percent` of the total magnitude) saturate, then clipped.
#pragma once

#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

namespace glassbox::explain {

enum class AttributionSign {
  automatic,       // absolute_value for attributions that are never negative (Saliency), else all
  all,             // signed, on a diverging map centred on 0: red raises the score, blue lowers it
  positive,        // only what raises the score
  negative,        // only what lowers it (shown as magnitudes)
  absolute_value,  // how much each pixel matters, whatever the direction
};
AttributionSign parse_attribution_sign(const std::string& name);  // "auto", "all", "positive", ...
std::vector<std::string> attribution_sign_names();  // every name the parser takes, in order
const char* attribution_sign_name(AttributionSign sign);

// [C, H, W] (or [H, W]) -> [H, W] in [-1, 1] (sign all) or [0, 1] (the others), on the CPU. Returns the
// sign it used (automatic resolved). outlier_percent as Captum's outlier_perc (default 2).
at::Tensor reduce_attribution(const at::Tensor& attribution, AttributionSign sign, double outlier_percent = 2.0,
                              AttributionSign* used = nullptr);

// Any method's attributions made displayable over the input x [B, C, H, W]: input-shaped ones as they
// are; a CAM [B, 1, h, w] or a layer-shaped attribution [B, K, h, w] summed over its channels and
// upsampled bilinearly to H x W. Returns [B, C', H, W].
at::Tensor attribution_over_input(const at::Tensor& attributions, const at::Tensor& x);

}  // namespace glassbox::explain
