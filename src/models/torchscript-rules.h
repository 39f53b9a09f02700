// A TorchScript module run under backward rules (backward-rules.h) without hooks or module swaps: forward's
// graph is copied with every call inlined, each operation the rules cover is replaced by a glassbox
// operator (rule-operators.h) with the same forward, and the copy is registered as a new method on the
// module's type, run as compiled TorchScript like forward. The module's own methods are left as they are.
#pragma once

#include <torch/script.h>

#include <map>
#include <string>

#include "glassbox/models/backward-rules.h"
#include "torchscript-output.h"

namespace glassbox::models {

class TorchScriptRules {
 public:
  // `module` must outlive this; `logits` picks the logits out of what forward returns.
  TorchScriptRules(torch::jit::Module& module, const LogitsSelection& logits);

  // The logits of x under `rules`. Throws glassbox::Error naming the rules' method and the first operation
  // (its kind and where it is) they do not cover.
  at::Tensor forward(const at::Tensor& x, const BackwardRules& rules);

 private:
  torch::jit::Module& module_;
  const LogitsSelection& logits_;
  std::map<std::string, std::string> methods_;  // structure key -> the rewritten method
};

}  // namespace glassbox::models
