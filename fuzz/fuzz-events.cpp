// libFuzzer target for the event-file reader: any bytes must read as events and at most one reported
// problem, never a crash or an out-of-bounds read (AddressSanitizer watches).
#include <cstddef>
#include <cstdint>
#include <string>

#include "glassbox/tensorboard/event-reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  glassbox::tensorboard::EventReader reader(std::string(reinterpret_cast<const char*>(data), size), "fuzz");
  reader.read_all();
  // The decoder alone too, on the raw bytes as one message.
  glassbox::tensorboard::Event event;
  std::string error;
  glassbox::tensorboard::decode_event(std::string_view(reinterpret_cast<const char*>(data), size), event, error);
  return 0;
}
