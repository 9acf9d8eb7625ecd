// The forward pass (forward.cpp) and the run state it works in. Private to smol_engine.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "kv_cache.h"
#include "smol/engine.h"

namespace smol::engine {

// Every buffer one micro-batch of up to B = n_batch tokens needs, allocated once.
struct RunState {
  RunState(const ModelConfig& c, int n_batch);

  int n_batch;                      // B: most tokens per forward() call
  std::vector<int64_t> pos;         // [B] absolute position of each token
  std::vector<float> x;             // [B][n_embd] residual stream
  std::vector<float> xn;            // [B][n_embd] RMS-normed input of the current sublayer
  std::vector<float> q;             // [B][n_head][head_dim]
  std::vector<float> k;             // [B][n_head_kv][head_dim]
  std::vector<float> v;             // [B][n_head_kv][head_dim]
  std::vector<float> attn;          // [B][n_head][head_dim] attention output, heads concatenated
  std::vector<float> proj;          // [B][n_embd] sublayer output before the residual add
  std::vector<float> gate;          // [B][n_ff] gate projection, then silu(gate) * up
  std::vector<float> up;            // [B][n_ff] up projection
  std::vector<float> logits;        // [n_vocab] logits of the last token of the last call
  std::vector<float> attn_scratch;  // kernels::attention_scratch_floats(...) floats

  size_t bytes() const;
};

// Runs tokens (1 .. B of them, ids already validated) at positions cache.n_past() onward,
// stores their K/V and advances the cache. Writes the logits of every token to all_logits
// ([n][n_vocab]) when it is non-null, else only the last token's to state.logits.
void forward(const Model& model, RunState& state, KvCache& cache, std::span<const int32_t> tokens,
             float* all_logits, const ActivationHook& hook);

}  // namespace smol::engine
