// Fused inference kernels that have no derivative, replaced by their differentiable decomposition.
// A module traced under torch.no_grad() (how many export for inference) records what PyTorch ran then:
// nn.MultiheadAttention's fast path, aten::_native_multi_head_attention, whose backward is not
// implemented, so that every gradient method fails on it ("derivative for
// aten::_native_multi_head_attention is not implemented"). Its decomposition (the projections, softmax
// of the scaled dot products, the weighted sum and the output projection, as the fast path computes them)
// gives the same outputs and gradients that flow.
#pragma once

namespace torch::jit {
struct Graph;
struct Module;
}

namespace glassbox::models {

// Rewrites, in every function of the module's code, each fused attention without a mask into its
// decomposition; the module must not have run yet (its executors would keep the old graphs). Attention
// with a mask is left as it is: gradients through it still fail, with libtorch's message. Returns how
// many were replaced.
int decompose_fused_attention(torch::jit::Module& module);

// The decomposition as a graph: (query, key, value, embed_dim, num_head, qkv_weight, qkv_bias,
// proj_weight, proj_bias, need_weights, average_attn_weights) -> (output, weights as the kernel returns
// them, weights per head [B, heads, L, S]), batch first, without a mask. For inserting (insertGraph).
torch::jit::Graph& attention_decomposition();

}  // namespace glassbox::models
