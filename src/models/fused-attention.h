// Fused inference kernels that have no derivative, replaced by their differentiable decomposition.
// A module traced under torch.no_grad() (how many export for inference) records what PyTorch ran then:
// nn.MultiheadAttention's fast path, aten::_native_multi_head_attention, whose backward is not
// implemented, so that every gradient method fails on it ("derivative for
// aten::_native_multi_head_attention is not implemented"). Its decomposition (the projections, softmax
// of the scaled dot products, the weighted sum and the output projection, as the fast path computes them)
// gives the same outputs and gradients that flow.
#pragma once

#include <vector>

namespace torch::jit {
struct Graph;
struct Module;
struct Node;
struct Value;
}

namespace glassbox::models {

// Rewrites, in every function of the module's code, each fused attention without a mask into its
// decomposition; the module must not have run yet (its executors would keep the old graphs). Attention
// with a mask is left as it is: gradients through it still fail, with libtorch's message. Returns how
// many were replaced.
int decompose_fused_attention(torch::jit::Module& module);

// Inserts the decomposition into `g` at its insertion point: (query, key, value, embed_dim, num_head,
// qkv_weight, qkv_bias, proj_weight, proj_bias, need_weights, average_attn_weights), batch first, without
// a mask. Returns the node whose outputs are the attention's output, its weights as the kernel returns
// them, and the weights per head [B, heads, L, S].
torch::jit::Node* insert_attention_decomposition(torch::jit::Graph& g, const std::vector<torch::jit::Value*>& inputs);

}  // namespace glassbox::models
