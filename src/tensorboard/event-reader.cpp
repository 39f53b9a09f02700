#include "glassbox/tensorboard/event-reader.h"

#include <cstring>

#include "glassbox/util/file-bytes.h"
#include "glassbox/tensorboard/crc32c.h"
#include "glassbox/tensorboard/protobuf-wire.h"
#include "glassbox/tensorboard/record.h"
#include "glassbox/util/error.h"

namespace glassbox::tensorboard {
namespace {

using wire::Decoder;
using wire::Field;

uint64_t get_le(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= uint64_t(static_cast<uint8_t>(p[i])) << (8 * i);
  return v;
}

// Each decoder returns false with `error` set when its message is malformed.
bool decode_packed_doubles(const Field& f, std::vector<double>& out, std::string& error) {
  if (f.type == wire::kFixed64) {  // unpacked encoding is legal too
    out.push_back(f.as_double());
    return true;
  }
  if (f.type != wire::kLengthDelimited || f.bytes.size() % 8 != 0) {
    error = "bad packed double field";
    return false;
  }
  for (size_t i = 0; i < f.bytes.size(); i += 8) {
    double d;
    std::memcpy(&d, f.bytes.data() + i, 8);
    out.push_back(d);
  }
  return true;
}

bool decode_histogram(std::string_view data, Histogram& h, std::string& error) {
  Decoder d(data);
  while (auto f = d.next()) {
    switch (f->number) {
      case 1: h.min = f->as_double(); break;
      case 2: h.max = f->as_double(); break;
      case 3: h.num = f->as_double(); break;
      case 4: h.sum = f->as_double(); break;
      case 5: h.sum_squares = f->as_double(); break;
      case 6: if (!decode_packed_doubles(*f, h.bucket_limit, error)) return false; break;
      case 7: if (!decode_packed_doubles(*f, h.bucket, error)) return false; break;
      default: break;
    }
  }
  error = d.error();
  return error.empty();
}

bool decode_image(std::string_view data, ImageValue& image, std::string& error) {
  Decoder d(data);
  while (auto f = d.next()) {
    if (f->number == 1) image.height = static_cast<int>(f->varint);
    if (f->number == 2) image.width = static_cast<int>(f->varint);
    if (f->number == 3) image.colorspace = static_cast<int>(f->varint);
    if (f->number == 4) image.encoded = std::string(f->bytes);
  }
  error = d.error();
  return error.empty();
}

bool decode_tensor(std::string_view data, TensorValue& t, std::string& error) {
  Decoder d(data);
  while (auto f = d.next()) {
    if (f->number == 1) t.dtype = static_cast<int>(f->varint);
    if (f->number == 2 && f->type == wire::kLengthDelimited) {
      Decoder shape(f->bytes);
      while (auto dim = shape.next())
        if (dim->number == 2 && dim->type == wire::kLengthDelimited) {
          Decoder dd(dim->bytes);
          int64_t size = 0;
          while (auto s = dd.next())
            if (s->number == 1) size = static_cast<int64_t>(s->varint);
          if (!dd.error().empty()) { error = dd.error(); return false; }
          t.shape.push_back(size);
        }
      if (!shape.error().empty()) { error = shape.error(); return false; }
    }
    if (f->number == 4) t.content = std::string(f->bytes);
    if (f->number == 5) {
      if (f->type == wire::kFixed32) {
        t.floats.push_back(f->as_float());
      } else if (f->type == wire::kLengthDelimited && f->bytes.size() % 4 == 0) {
        for (size_t i = 0; i < f->bytes.size(); i += 4) {
          float v;
          std::memcpy(&v, f->bytes.data() + i, 4);
          t.floats.push_back(v);
        }
      }
    }
    if (f->number == 8) t.strings.emplace_back(f->bytes);
  }
  error = d.error();
  return error.empty();
}

bool decode_metadata(std::string_view data, Value& v, std::string& error) {
  Decoder d(data);
  while (auto f = d.next()) {
    if (f->number == 1 && f->type == wire::kLengthDelimited) {
      Decoder plugin(f->bytes);
      while (auto p = plugin.next())
        if (p->number == 1) v.plugin_name = std::string(p->bytes);
      if (!plugin.error().empty()) { error = plugin.error(); return false; }
    }
    if (f->number == 2) v.display_name = std::string(f->bytes);
    if (f->number == 3) v.description = std::string(f->bytes);
  }
  error = d.error();
  return error.empty();
}

bool decode_value(std::string_view data, Value& v, std::string& error) {
  Decoder d(data);
  while (auto f = d.next()) {
    const bool nested = f->type == wire::kLengthDelimited;
    switch (f->number) {
      case 1: v.tag = std::string(f->bytes); break;
      case 2: v.kind = ValueKind::scalar; v.scalar = f->as_float(); break;
      case 4:
        if (!nested || !decode_image(f->bytes, v.image, error)) return error.empty() ? (error = "bad image", false) : false;
        v.kind = ValueKind::image;
        break;
      case 5:
        if (!nested || !decode_histogram(f->bytes, v.histogram, error)) return error.empty() ? (error = "bad histogram", false) : false;
        v.kind = ValueKind::histogram;
        break;
      case 8:
        if (!nested || !decode_tensor(f->bytes, v.tensor, error)) return error.empty() ? (error = "bad tensor", false) : false;
        v.kind = ValueKind::tensor;
        break;
      case 9:
        if (!nested || !decode_metadata(f->bytes, v, error)) return error.empty() ? (error = "bad metadata", false) : false;
        break;
      default: break;
    }
  }
  if (!d.error().empty()) {
    error = d.error();
    return false;
  }
  if (v.kind == ValueKind::tensor && v.plugin_name == "text") v.kind = ValueKind::text;
  if (v.kind == ValueKind::tensor && v.plugin_name == "scalars" && v.tensor.floats.size() == 1) {
    v.kind = ValueKind::scalar;
    v.scalar = v.tensor.floats[0];
  }
  return true;
}

}  // namespace

const char* kind_name(ValueKind kind) {
  switch (kind) {
    case ValueKind::scalar: return "scalar";
    case ValueKind::image: return "image";
    case ValueKind::histogram: return "histogram";
    case ValueKind::text: return "text";
    case ValueKind::tensor: return "tensor";
    case ValueKind::unknown: break;
  }
  return "unknown";
}

bool decode_event(std::string_view data, Event& out, std::string& error) {
  Decoder d(data);
  while (auto f = d.next()) {
    switch (f->number) {
      case 1: out.wall_time = f->as_double(); break;
      case 2: out.step = static_cast<int64_t>(f->varint); break;
      case 3: out.file_version = std::string(f->bytes); break;
      case 5: {
        if (f->type != wire::kLengthDelimited) { error = "summary is not a message"; return false; }
        Decoder summary(f->bytes);
        while (auto v = summary.next()) {
          if (v->number != 1) continue;
          if (v->type != wire::kLengthDelimited) { error = "summary value is not a message"; return false; }
          Value value;
          if (!decode_value(v->bytes, value, error)) return false;
          out.values.push_back(std::move(value));
        }
        if (!summary.error().empty()) { error = summary.error(); return false; }
        break;
      }
      case 10: {
        Decoder source(f->bytes);
        while (auto s = source.next())
          if (s->number == 1) out.source_writer = std::string(s->bytes);
        break;
      }
      default: break;
    }
  }
  error = d.error();
  return error.empty();
}

// Event files are read as they are (TensorBoard does not inflate them either), a record at a time.
EventReader::EventReader(const std::string& path) : name_(path), file_(std::make_unique<FileReader>(path)) {
  size_ = file_->size();
}

EventReader::EventReader(std::string bytes, std::string name) : name_(std::move(name)), bytes_(std::move(bytes)) {
  size_ = bytes_.size();
}

EventReader::~EventReader() = default;

std::string EventReader::read_at(uint64_t offset, size_t n) const {
  return file_ ? file_->read_at(offset, n) : bytes_.substr(static_cast<size_t>(offset), n);
}

std::optional<Event> EventReader::next() {
  if (problem_ || pos_ >= size_) return std::nullopt;
  const uint64_t left = size_ - pos_;
  auto fail = [&](std::string reason, bool torn) -> std::optional<Event> {
    problem_ = ReadProblem{pos_, std::move(reason), torn};
    return std::nullopt;
  };
  if (left < kRecordHeaderSize) return fail("truncated record header (" + std::to_string(left) + " bytes)", true);
  const std::string header = read_at(pos_, kRecordHeaderSize);
  const uint64_t length = get_le(header.data(), 8);
  const uint32_t length_crc = static_cast<uint32_t>(get_le(header.data() + 8, 4));
  if (mask_crc(crc32c(header.data(), 8)) != length_crc) return fail("bad length CRC", false);
  // Checked against what the file holds before anything of that length is read.
  if (length > left - kRecordHeaderSize || left - kRecordHeaderSize - length < kRecordFooterSize)
    return fail("record of " + std::to_string(length) + " bytes runs past the end of the file", true);
  const std::string record = read_at(pos_ + kRecordHeaderSize, static_cast<size_t>(length) + kRecordFooterSize);
  const std::string_view data(record.data(), static_cast<size_t>(length));
  const uint32_t data_crc = static_cast<uint32_t>(get_le(record.data() + length, 4));
  if (mask_crc(crc32c(data.data(), data.size())) != data_crc) return fail("bad data CRC", false);
  Event event;
  event.offset = pos_;
  std::string error;
  if (!decode_event(data, event, error)) return fail("malformed event (" + error + ")", false);
  pos_ += kRecordHeaderSize + static_cast<size_t>(length) + kRecordFooterSize;
  return event;
}

std::vector<Event> EventReader::read_all() {
  std::vector<Event> events;
  while (auto e = next()) events.push_back(std::move(*e));
  return events;
}

}  // namespace glassbox::tensorboard
