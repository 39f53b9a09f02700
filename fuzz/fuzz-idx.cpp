// libFuzzer target for the IDX parser: any byte string must parse or throw glassbox::Error, never
// crash or read out of bounds (AddressSanitizer watches the reads).
#include <cstddef>
#include <cstdint>

#include "glassbox/data/idx.h"
#include "glassbox/util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  for (auto kind : {glassbox::data::IdxKind::any, glassbox::data::IdxKind::images, glassbox::data::IdxKind::labels}) {
    try {
      const glassbox::data::IdxArray a = glassbox::data::parse_idx(data, size, "fuzz", kind);
      if (a.dims.size() == 1 && a.type == glassbox::data::IdxType::u8) {
        glassbox::data::IdxArray images;
        images.dims = {a.dims[0], 1, 1};
        images.bytes.resize(a.dims[0]);
        glassbox::data::validate_labels(images, "images", a, "labels", 10);
      }
    } catch (const glassbox::Error&) {
    }
  }
  return 0;
}
