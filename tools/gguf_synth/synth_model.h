// synth_model.h — the shape of a synthetic SmolLM3 model: hyper-parameters per preset and the
// exact tensor plan (names, order, shapes, Q4_K_M types) of the real SmolLM3-3B Q4_K_M file.
//
// Goals: one place that encodes the real file's layout (facts §1.3, §2), so that `tiny` and
// `small` differ from `3b` only in sizes, never in naming, ordering or typing rules.
// Non-goals: other architectures or quantisation mixes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "smol/gguf.h"
#include "smol/result.h"

namespace smol::synth {

// Hyper-parameters of one preset; written as the `smollm3.*` metadata keys.
struct Preset {
  std::string name;          // "tiny" | "small" | "3b"
  uint32_t n_layer = 0;      // smollm3.block_count
  uint32_t n_embd = 0;       // smollm3.embedding_length (d_model)
  uint32_t n_ff = 0;         // smollm3.feed_forward_length; multiple of 256 (K-quant rows)
  uint32_t n_head = 0;       // smollm3.attention.head_count
  uint32_t n_head_kv = 0;    // smollm3.attention.head_count_kv
  uint32_t n_vocab = 0;      // smollm3.vocab_size; always the full 128256
  uint32_t n_ctx = 0;        // smollm3.context_length (trained context)
  float rope_freq_base = 0;  // smollm3.rope.freq_base
  float rms_eps = 0;         // smollm3.attention.layer_norm_rms_epsilon

  uint32_t head_dim() const { return n_embd / n_head; }  // also smollm3.rope.dimension_count
  uint32_t n_embd_kv() const { return head_dim() * n_head_kv; }
  // llama.cpp hard-codes the NoPE step 4: layer il skips RoPE when (il+1) % 4 == 0.
  bool uses_rope(uint32_t il) const { return (il + 1) % 4 != 0; }
};

using gguf::TensorType;  // only F32, Q4_K and Q6_K occur in a Q4_K_M file

// Bytes of one row of `ne0` elements; ne0 must be a multiple of the type's block size.
uint64_t row_bytes(TensorType type, uint64_t ne0);

// What a tensor is for; decides how its random values are scaled.
enum class TensorRole {
  kTokenEmbd,
  kNorm,
  kAttnQ,
  kAttnK,
  kAttnV,
  kAttnOutput,
  kFfnGate,
  kFfnUp,
  kFfnDown
};

struct TensorSpec {
  std::string name;         // spelled as in the real file, e.g. "blk.0.attn_q.weight"
  std::vector<int64_t> ne;  // GGUF order: ne[0] is the contiguous (input) axis
  TensorType type = TensorType::F32;
  TensorRole role = TensorRole::kNorm;
  int32_t layer = -1;  // block index, -1 for token_embd / output_norm
  uint64_t n_rows() const { return ne.size() > 1 ? static_cast<uint64_t>(ne[1]) : 1; }
  uint64_t n_elements() const;
  uint64_t n_bytes() const { return row_bytes(type, ne[0]) * n_rows(); }
};

// Totals of a plan, as gguf-inspect reports them for a file.
struct PlanSummary {
  uint64_t n_tensors = 0;
  uint64_t n_f32 = 0, n_q4_k = 0, n_q6_k = 0;  // tensors per type
  uint64_t n_params = 0;                       // elements over all tensors
  uint64_t data_bytes = 0;                     // tensor data incl. padding to 32-byte alignment
  std::vector<uint32_t> nope_layers;           // layers that skip RoPE
};
PlanSummary summarize(const Preset& preset, const std::vector<TensorSpec>& plan);

Result<Preset> preset_by_name(std::string_view name);
std::vector<std::string> preset_names();

// llama.cpp's Q4_K_M rule: the i-th attn_v / ffn_down tensor (file order) of n gets Q6_K.
bool use_more_bits(int i, int n);

// Tensors in file order: token_embd, output_norm, then per block attn_norm, attn_q, attn_k,
// attn_v, attn_output, ffn_norm, ffn_gate, ffn_up, ffn_down. No output.weight (tied embeddings).
std::vector<TensorSpec> tensor_plan(const Preset& preset);

}  // namespace smol::synth
