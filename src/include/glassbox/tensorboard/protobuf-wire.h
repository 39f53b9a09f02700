// The protobuf wire format, just what event files need: varints, fixed 32/64-bit fields and
// length-delimited fields. Hand-written on purpose: libprotobuf is the top complaint of C++
// TensorBoard writers' users and can clash with the copy inside libtorch.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace glassbox::tensorboard::wire {

enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

// Appends fields to a message buffer.
class Encoder {
 public:
  void varint_field(uint32_t field, uint64_t value) {
    key(field, kVarint);
    varint(value);
  }
  void double_field(uint32_t field, double value) {
    key(field, kFixed64);
    fixed(value);
  }
  void float_field(uint32_t field, float value) {
    key(field, kFixed32);
    fixed(value);
  }
  void bytes_field(uint32_t field, std::string_view bytes) {
    key(field, kLengthDelimited);
    varint(bytes.size());
    out_.append(bytes.data(), bytes.size());
  }
  // A packed repeated double field.
  void packed_doubles(uint32_t field, const std::vector<double>& values) {
    key(field, kLengthDelimited);
    varint(values.size() * 8);
    for (double v : values) fixed(v);
  }
  const std::string& bytes() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  void key(uint32_t field, WireType type) { varint((uint64_t(field) << 3) | type); }
  void varint(uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>(v | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
  }
  template <typename T>
  void fixed(T v) {
    char b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));  // little-endian hosts only, as the wire format
    out_.append(b, sizeof(T));
  }
  std::string out_;
};

// One field read off the wire.
struct Field {
  uint32_t number = 0;
  WireType type = kVarint;
  uint64_t varint = 0;       // kVarint; also the raw bits of kFixed64 / kFixed32
  std::string_view bytes;    // kLengthDelimited

  double as_double() const {
    double d;
    std::memcpy(&d, &varint, 8);
    return d;
  }
  float as_float() const {
    const uint32_t bits = static_cast<uint32_t>(varint);
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
  }
};

// Reads fields from a message buffer, never past its end. next() returns nullopt at the end and
// sets error() when the buffer is malformed (truncated varint or field, unknown wire type).
class Decoder {
 public:
  explicit Decoder(std::string_view data) : data_(data) {}

  std::optional<Field> next() {
    if (pos_ >= data_.size() || !error_.empty()) return std::nullopt;
    uint64_t key;
    if (!varint(key)) return fail("truncated field key");
    Field f;
    f.number = static_cast<uint32_t>(key >> 3);
    f.type = static_cast<WireType>(key & 7);
    if (f.number == 0) return fail("field number 0");
    switch (f.type) {
      case kVarint:
        if (!varint(f.varint)) return fail("truncated varint");
        return f;
      case kFixed64:
        if (data_.size() - pos_ < 8) return fail("truncated fixed64");
        std::memcpy(&f.varint, data_.data() + pos_, 8);
        pos_ += 8;
        return f;
      case kFixed32: {
        if (data_.size() - pos_ < 4) return fail("truncated fixed32");
        uint32_t v;
        std::memcpy(&v, data_.data() + pos_, 4);
        f.varint = v;
        pos_ += 4;
        return f;
      }
      case kLengthDelimited: {
        uint64_t n;
        if (!varint(n)) return fail("truncated length");
        if (n > data_.size() - pos_) return fail("length-delimited field runs past the end");
        f.bytes = data_.substr(pos_, static_cast<size_t>(n));
        pos_ += static_cast<size_t>(n);
        return f;
      }
      default:
        return fail("unsupported wire type " + std::to_string(static_cast<int>(f.type)));
    }
  }
  const std::string& error() const { return error_; }

 private:
  bool varint(uint64_t& out) {
    out = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= data_.size()) return false;
      const uint8_t b = static_cast<uint8_t>(data_[pos_++]);
      out |= uint64_t(b & 0x7F) << shift;
      if (!(b & 0x80)) return true;
    }
    return false;
  }
  std::nullopt_t fail(std::string why) {
    error_ = std::move(why);
    return std::nullopt;
  }
  std::string_view data_;
  size_t pos_ = 0;
  std::string error_;
};

}  // namespace glassbox::tensorboard::wire
