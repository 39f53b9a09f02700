#include "fused-attention.h"

#include <torch/csrc/jit/api/compilation_unit.h>
#include <torch/csrc/jit/api/function_impl.h>
#include <torch/csrc/jit/api/module.h>
#include <torch/csrc/jit/ir/ir.h>

#include <memory>
#include <vector>

namespace glassbox::models {
namespace {

// aten::_native_multi_head_attention(query, key, value, embed_dim, num_head, qkv_weight, qkv_bias,
// proj_weight, proj_bias, mask, need_weights, average_attn_weights, mask_type), batch first, without the
// mask: q, k, v are the input projections split into heads; the weights are softmax(q k^T / sqrt(d));
// the output is their weighted sum of v, heads joined, projected. Returns the output, the weights as the
// kernel returns them (averaged over heads when asked; none unless asked), and the weights per head.
const char* const kAttention = R"(
def attention(query: Tensor, key: Tensor, value: Tensor, embed_dim: int, num_head: int, qkv_weight: Tensor,
              qkv_bias: Tensor, proj_weight: Tensor, proj_bias: Tensor, need_weights: bool,
              average_attn_weights: bool) -> Tuple[Tensor, Tensor, Tensor]:
    B = query.size(0)
    L = query.size(1)
    S = key.size(1)
    head_dim = embed_dim // num_head
    w = torch.chunk(qkv_weight, 3, 0)
    b = torch.chunk(qkv_bias, 3, 0)
    q = torch.linear(query, w[0], b[0]).view([B, L, num_head, head_dim]).transpose(1, 2)
    k = torch.linear(key, w[1], b[1]).view([B, S, num_head, head_dim]).transpose(1, 2)
    v = torch.linear(value, w[2], b[2]).view([B, S, num_head, head_dim]).transpose(1, 2)
    p = torch.softmax(torch.matmul(q * (float(head_dim) ** -0.5), k.transpose(-2, -1)), -1)
    out = torch.matmul(p, v).transpose(1, 2).reshape([B, L, embed_dim])
    out = torch.linear(out, proj_weight, proj_bias)
    if not need_weights:
        return out, out.new_zeros([0]), p
    if average_attn_weights:
        return out, p.mean(1), p
    return out, p, p
)";

void collect(torch::jit::Block* block, std::vector<torch::jit::Node*>& out) {
  for (torch::jit::Node* n : block->nodes()) {
    if (n->kind() == c10::Symbol::fromQualString("aten::_native_multi_head_attention")) out.push_back(n);
    for (torch::jit::Block* sub : n->blocks()) collect(sub, out);
  }
}

bool is_none(torch::jit::Value* v) { return v->type()->kind() == c10::TypeKind::NoneType || v->mustBeNone(); }

}  // namespace

torch::jit::Node* insert_attention_decomposition(torch::jit::Graph& g, const std::vector<torch::jit::Value*>& inputs) {
  static const auto cu = std::make_shared<torch::jit::CompilationUnit>(kAttention);
  torch::jit::Graph& decomposition = *torch::jit::toGraphFunction(cu->get_function("attention")).graph();
  torch::jit::Value* results = torch::jit::insertGraph(g, decomposition, inputs).at(0);
  return g.insertNode(g.createTupleUnpack(results));
}

int decompose_fused_attention(torch::jit::Module& module) {
  int replaced = 0;
  for (torch::jit::Function* fn : module._ivalue()->compilation_unit()->get_functions()) {
    if (!fn->isGraphFunction()) continue;
    torch::jit::Graph& g = *torch::jit::toGraphFunction(*fn).graph();
    std::vector<torch::jit::Node*> nodes;
    collect(g.block(), nodes);
    for (torch::jit::Node* n : nodes) {
      if (n->inputs().size() != 13 || !is_none(n->input(9))) continue;  // a mask: left as it is
      torch::jit::WithInsertPoint here(n);
      const std::vector<torch::jit::Value*> inputs{n->input(0), n->input(1), n->input(2),  n->input(3),
                                                   n->input(4), n->input(5), n->input(6),  n->input(7),
                                                   n->input(8), n->input(10), n->input(11)};
      torch::jit::Node* unpack = insert_attention_decomposition(g, inputs);
      for (size_t i = 0; i < 2; ++i) {
        unpack->output(i)->setType(n->output(i)->type());
        n->output(i)->replaceAllUsesWith(unpack->output(i));
      }
      n->destroy();
      ++replaced;
    }
  }
  return replaced;
}

}  // namespace glassbox::models
