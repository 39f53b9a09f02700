// Encoding TensorBoard Event messages (the few that glassbox writes), without libprotobuf.
// Field numbers and meanings follow tensorboard/compat/proto (event.proto, summary.proto, ...).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace glassbox::tensorboard {

// Optional SummaryMetadata of a value: which plugin shows it, and how it is labelled.
struct ValueMetadata {
  std::string plugin_name;  // "scalars", "images", "histograms", "text"; empty = none written
  std::string display_name;
  std::string description;
};

struct Histogram {
  double min = 0, max = 0, num = 0, sum = 0, sum_squares = 0;
  std::vector<double> bucket_limit;  // right edges
  std::vector<double> bucket;        // counts
};

// TensorBoard's default histogram bin edges: 0 and +-1e-12 * 1.1^k up to 1e20.
const std::vector<double>& default_histogram_edges();

// Buckets `values` on `edges` like numpy.histogram (right edge inclusive for the last bin; values
// outside the edges are not counted) and keeps the support as the Python writer does: from the bin
// before the first non-empty one to the last non-empty one. Throws glassbox::Error for no values.
Histogram make_histogram(const float* values, size_t count, const std::vector<double>& edges = default_histogram_edges());

// Serialised Event messages.
std::string encode_file_version_event(double wall_time);
std::string encode_scalar_event(double wall_time, int64_t step, std::string_view tag, float value,
                                const ValueMetadata& meta = {});
// colorspace: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA. `encoded` is PNG (or GIF) bytes.
std::string encode_image_event(double wall_time, int64_t step, std::string_view tag, int height, int width,
                               int colorspace, std::string_view encoded, const ValueMetadata& meta = {});
std::string encode_histogram_event(double wall_time, int64_t step, std::string_view tag, const Histogram& h,
                                   const ValueMetadata& meta = {});
// A text-plugin value: a DT_STRING tensor of shape [1]. `tag` is used as given (the Python writer
// appends "/text_summary"; SummaryWriter::add_text does too).
std::string encode_text_event(double wall_time, int64_t step, std::string_view tag, std::string_view text,
                              const ValueMetadata& meta = {});

}  // namespace glassbox::tensorboard
