// What the passes over a copied TorchScript graph share (torchscript-layers.cpp, torchscript-rules.cpp).
#pragma once

#include <torch/csrc/jit/ir/ir.h>

#include <vector>

namespace glassbox::models {

// Every node of `block` and of the blocks inside it (loops', branches'), in graph order.
inline void collect_nodes(torch::jit::Block* block, std::vector<torch::jit::Node*>& out) {
  for (torch::jit::Node* n : block->nodes()) {
    out.push_back(n);
    for (torch::jit::Block* sub : n->blocks()) collect_nodes(sub, out);
  }
}

}  // namespace glassbox::models
