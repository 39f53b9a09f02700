#include "glassbox/tensorboard/events.h"

#include <algorithm>

#include "glassbox/tensorboard/protobuf-wire.h"
#include "glassbox/util/error.h"

namespace glassbox::tensorboard {
namespace {

// Field numbers (tensorboard/compat/proto).
namespace event_field { constexpr uint32_t wall_time = 1, step = 2, file_version = 3, summary = 5, source_metadata = 10; }
namespace value_field { constexpr uint32_t tag = 1, simple_value = 2, image = 4, histo = 5, tensor = 8, metadata = 9; }

std::string metadata_bytes(const ValueMetadata& meta) {
  wire::Encoder m;
  if (!meta.plugin_name.empty()) {
    wire::Encoder plugin;
    plugin.bytes_field(1, meta.plugin_name);
    m.bytes_field(1, plugin.bytes());
  }
  if (!meta.display_name.empty()) m.bytes_field(2, meta.display_name);
  if (!meta.description.empty()) m.bytes_field(3, meta.description);
  return m.take();
}

// Wraps one Summary.Value (already holding its payload field) into an Event.
std::string event_with_value(double wall_time, int64_t step, wire::Encoder& value, const ValueMetadata& meta) {
  const std::string md = metadata_bytes(meta);
  if (!md.empty()) value.bytes_field(value_field::metadata, md);
  wire::Encoder summary;
  summary.bytes_field(1, value.bytes());
  wire::Encoder event;
  event.double_field(event_field::wall_time, wall_time);
  // proto3 leaves defaults off the wire: step 0 is not written, as the Python writer does.
  if (step != 0) event.varint_field(event_field::step, static_cast<uint64_t>(step));
  event.bytes_field(event_field::summary, summary.bytes());
  return event.take();
}

wire::Encoder value_with_tag(std::string_view tag) {
  wire::Encoder v;
  v.bytes_field(value_field::tag, tag);
  return v;
}

}  // namespace

const std::vector<double>& default_histogram_edges() {
  static const std::vector<double> edges = [] {
    std::vector<double> positive;
    for (double v = 1e-12; v < 1e20; v *= 1.1) positive.push_back(v);
    std::vector<double> all;
    for (auto it = positive.rbegin(); it != positive.rend(); ++it) all.push_back(-*it);
    all.push_back(0);
    all.insert(all.end(), positive.begin(), positive.end());
    return all;
  }();
  return edges;
}

Histogram make_histogram(const float* values, size_t count, const std::vector<double>& edges) {
  GLASSBOX_CHECK(count > 0, "histogram: no values");
  GLASSBOX_CHECK(edges.size() >= 2, "histogram: ", edges.size(), " bin edges, expected at least 2");
  const size_t bins = edges.size() - 1;
  std::vector<double> counts(bins, 0.0);
  Histogram h;
  h.min = h.max = values[0];
  for (size_t i = 0; i < count; ++i) {
    const double v = values[i];
    h.min = std::min(h.min, v);
    h.max = std::max(h.max, v);
    h.sum += v;
    h.sum_squares += v * v;
    if (!(v >= edges.front() && v <= edges.back())) continue;  // outside (or NaN): not counted
    // Bin i holds [edges[i], edges[i+1]); the last bin also holds its right edge.
    size_t bin = static_cast<size_t>(std::upper_bound(edges.begin(), edges.end(), v) - edges.begin()) - 1;
    if (bin >= bins) bin = bins - 1;
    counts[bin] += 1;
  }
  h.num = static_cast<double>(count);
  // The support: from the bin before the first non-empty one (TensorBoard keeps only right edges, so
  // an empty bin on the left carries the leftmost limit) to the last non-empty one.
  size_t first = bins, last = 0;
  for (size_t i = 0; i < bins; ++i)
    if (counts[i] > 0) {
      first = std::min(first, i);
      last = i;
    }
  if (first == bins) first = last = 0;  // nothing inside the edges
  if (first > 0) {
    h.bucket.assign(counts.begin() + static_cast<long>(first - 1), counts.begin() + static_cast<long>(last + 1));
  } else {
    h.bucket.push_back(0);
    h.bucket.insert(h.bucket.end(), counts.begin(), counts.begin() + static_cast<long>(last + 1));
  }
  h.bucket_limit.assign(edges.begin() + static_cast<long>(first), edges.begin() + static_cast<long>(last + 2));
  return h;
}

std::string encode_file_version_event(double wall_time) {
  wire::Encoder source;
  source.bytes_field(1, "glassbox");
  wire::Encoder event;
  event.double_field(event_field::wall_time, wall_time);
  event.bytes_field(event_field::file_version, "brain.Event:2");
  event.bytes_field(event_field::source_metadata, source.bytes());
  return event.take();
}

std::string encode_scalar_event(double wall_time, int64_t step, std::string_view tag, float value,
                                const ValueMetadata& meta) {
  wire::Encoder v = value_with_tag(tag);
  v.float_field(value_field::simple_value, value);
  return event_with_value(wall_time, step, v, meta);
}

std::string encode_image_event(double wall_time, int64_t step, std::string_view tag, int height, int width,
                               int colorspace, std::string_view encoded, const ValueMetadata& meta) {
  wire::Encoder image;
  image.varint_field(1, static_cast<uint64_t>(height));
  image.varint_field(2, static_cast<uint64_t>(width));
  image.varint_field(3, static_cast<uint64_t>(colorspace));
  image.bytes_field(4, encoded);
  wire::Encoder v = value_with_tag(tag);
  v.bytes_field(value_field::image, image.bytes());
  return event_with_value(wall_time, step, v, meta);
}

std::string encode_histogram_event(double wall_time, int64_t step, std::string_view tag, const Histogram& h,
                                   const ValueMetadata& meta) {
  wire::Encoder histo;
  histo.double_field(1, h.min);
  histo.double_field(2, h.max);
  histo.double_field(3, h.num);
  histo.double_field(4, h.sum);
  histo.double_field(5, h.sum_squares);
  histo.packed_doubles(6, h.bucket_limit);
  histo.packed_doubles(7, h.bucket);
  wire::Encoder v = value_with_tag(tag);
  v.bytes_field(value_field::histo, histo.bytes());
  return event_with_value(wall_time, step, v, meta);
}

std::string encode_text_event(double wall_time, int64_t step, std::string_view tag, std::string_view text,
                              const ValueMetadata& meta) {
  wire::Encoder dim;
  dim.varint_field(1, 1);  // size 1
  wire::Encoder shape;
  shape.bytes_field(2, dim.bytes());
  wire::Encoder tensor;
  tensor.varint_field(1, 7);  // DT_STRING
  tensor.bytes_field(2, shape.bytes());
  tensor.bytes_field(8, text);
  wire::Encoder v = value_with_tag(tag);
  v.bytes_field(value_field::tensor, tensor.bytes());
  ValueMetadata m = meta;
  m.plugin_name = "text";
  return event_with_value(wall_time, step, v, m);
}

}  // namespace glassbox::tensorboard
