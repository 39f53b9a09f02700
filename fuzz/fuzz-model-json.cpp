// libFuzzer target for a TorchScript model's model.json (model-json.h): any input must be accepted or
// throw glassbox::Error, never crash, overflow the stack or read out of bounds; what is accepted must
// read back the same after glassbox writes it.
#include <cstddef>
#include <cstdint>
#include <string>

#include "glassbox/models/model-json.h"
#include "glassbox/util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const glassbox::models::ModelJson j = glassbox::models::parse_model_json(text, "fuzz.json");
    const glassbox::models::ModelJson back =
        glassbox::models::parse_model_json(glassbox::models::model_json_text(j.input_shape, j.spec), "round trip");
    if (back.spec.class_names() != j.spec.class_names() || back.input_shape.width != j.input_shape.width ||
        back.spec.normalization().std != j.spec.normalization().std)
      __builtin_trap();
  } catch (const glassbox::Error&) {
  }
  return 0;
}
