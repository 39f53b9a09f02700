// Reading event files back: record framing with both CRCs checked, and the Event messages glassbox
// and the Python writer produce (scalars, images, histograms, texts). Damage is reported with its
// byte offset, and everything before it is still returned.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "glassbox/tensorboard/events.h"

namespace glassbox {
class FileReader;
}

namespace glassbox::tensorboard {

enum class ValueKind { scalar, image, histogram, text, tensor, unknown };
const char* kind_name(ValueKind kind);

struct ImageValue {
  int height = 0, width = 0, colorspace = 0;
  std::string encoded;  // PNG or GIF bytes
};

struct TensorValue {
  int dtype = 0;
  std::vector<int64_t> shape;
  std::vector<std::string> strings;  // string_val
  std::vector<float> floats;         // float_val
  std::string content;               // tensor_content
};

struct Value {
  std::string tag;
  ValueKind kind = ValueKind::unknown;
  float scalar = 0;
  ImageValue image;
  Histogram histogram;
  TensorValue tensor;  // kind tensor, or text (strings[0] holds the text)
  std::string plugin_name, display_name, description;
};

struct Event {
  uint64_t offset = 0;  // of its record in the file
  double wall_time = 0;
  int64_t step = 0;
  std::string file_version;
  std::string source_writer;
  std::vector<Value> values;
};

struct ReadProblem {
  uint64_t offset = 0;
  std::string reason;
  bool torn_tail = false;  // a record cut off at the end of the file (a writer killed mid-record)
};

// Decodes one Event message. Returns false and sets `error` on malformed input.
bool decode_event(std::string_view data, Event& out, std::string& error);

class EventReader {
 public:
  // Opens the file; records are read one at a time as next() asks, so memory follows the largest record
  // (checked against the file's size before it is read), not the file. Throws glassbox::Error naming the
  // path when it cannot be opened.
  explicit EventReader(const std::string& path);
  ~EventReader();
  // Reads from bytes already in memory; `name` appears in messages.
  EventReader(std::string bytes, std::string name);

  // The next event, or nullopt at the end of the file or at the first damage (see problem()).
  std::optional<Event> next();
  const std::optional<ReadProblem>& problem() const { return problem_; }
  const std::string& name() const { return name_; }

  // Every event up to the end or the first damage.
  std::vector<Event> read_all();

 private:
  // The `n` bytes at `offset` of the file or of the bytes given (within size_).
  std::string read_at(uint64_t offset, size_t n) const;

  std::string name_;
  std::string bytes_;                 // the source, when given as bytes
  std::unique_ptr<FileReader> file_;  // else the file
  uint64_t size_ = 0;
  uint64_t pos_ = 0;
  std::optional<ReadProblem> problem_;
};

}  // namespace glassbox::tensorboard
