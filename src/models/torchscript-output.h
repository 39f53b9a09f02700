// Which part of a TorchScript module's output is the logits. Many forwards return more than a tensor:
// Inception-V3 and GoogLeNet a named tuple (logits, aux_logits), detection-style heads a dict, models
// exported with features a tuple (logits, embedding). The choice is made once, on the first output, and
// applied to every later one, so that a forward whose structure changes between calls is an error, not
// a silent switch to another tensor.
#pragma once

#include <ATen/core/ivalue.h>

#include <cstdint>
#include <string>

namespace glassbox::models {

class LogitsSelection {
 public:
  LogitsSelection() = default;
  // Resolves `stated` (TorchScriptOptions::logits: "" for the first [batch, classes] floating tensor, a
  // decimal index into a tuple or list, or a dict key or named-tuple field) against a first output for
  // a batch of `batch`. Errors name `path` and "logits".
  LogitsSelection(const c10::IValue& output, const std::string& stated, int64_t batch, const std::string& path);

  // The logits in a later output (not yet checked to be [B, classes]).
  at::Tensor operator()(const c10::IValue& output) const;
  // How they were found, for the output: "" for a plain tensor, else "element 0 ('logits') of the tuple
  // forward returns".
  const std::string& description() const { return description_; }

 private:
  enum class Kind { tensor, element, key };
  Kind kind_ = Kind::tensor;
  size_t index_ = 0;
  std::string key_;
  std::string path_;
  std::string description_;
};

}  // namespace glassbox::models
