// smol/model_config.h — the hyper-parameters of a decoder model, read once from GGUF metadata.
//
// Goals: one flat struct, filled from a single table of GGUF keys (model_config.cpp) and validated
// up front, so nothing downstream re-reads metadata or re-checks shapes. Per-layer facts are
// precomputed (uses_rope).
// Non-goals: rope scaling (YaRN / linear / llama3 freq factors), biases, MoE, partial rotary
// dims, logit soft-capping: a file that asks for any of them is refused with a message.
//
// Supported architectures: "smollm3" (NoPE every 4th layer, fixed by llama.cpp in code since no
// GGUF key carries it) and "llama" (RoPE on every layer).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "smol/gguf.h"
#include "smol/result.h"

namespace smol::engine {

struct ModelConfig {
  std::string architecture;        // general.architecture: "smollm3" or "llama"
  int n_layer = 0;                 // {arch}.block_count: transformer blocks
  int n_embd = 0;                  // {arch}.embedding_length: residual width (d_model)
  int n_ff = 0;                    // {arch}.feed_forward_length: FFN hidden width
  int n_head = 0;                  // {arch}.attention.head_count: query heads
  int n_head_kv = 0;               // {arch}.attention.head_count_kv: key/value heads (GQA)
  int head_dim = 0;                // {arch}.attention.key_length, else n_embd / n_head
  int n_vocab = 0;                 // {arch}.vocab_size, else rows of token_embd.weight
  int n_ctx_train = 0;             // {arch}.context_length: positions the model was trained on
  float rope_freq_base = 0;        // {arch}.rope.freq_base: theta base (5e6 for SmolLM3)
  float rms_eps = 0;               // {arch}.attention.layer_norm_rms_epsilon (1e-6 for SmolLM3)
  std::vector<uint8_t> uses_rope;  // [n_layer]: 1 = apply RoPE to q/k in this layer, 0 = NoPE

  // Builds and validates the config; the error names the key or value at fault.
  static Result<ModelConfig> from_gguf(const gguf::File& file);

  int n_q() const { return n_head * head_dim; }      // width of q (and of attention output)
  int n_kv() const { return n_head_kv * head_dim; }  // width of k and v per position
  int n_gqa() const { return n_head / n_head_kv; }   // query heads sharing one kv head
  float attn_scale() const;                          // 1 / sqrt(head_dim)
  int n_rope_layers() const;                         // layers with uses_rope == 1
};

}  // namespace smol::engine
