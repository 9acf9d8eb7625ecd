// The forward pass (forward.cpp) and the run state it works in. Private to smol_engine.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "kv_cache.h"
#include "smol/engine.h"

namespace smol::engine {

// Every buffer one forward() call of up to B = n_batch token rows from up to S = n_seq
// sequences needs, allocated once. A Session's state has S = 1; a BatchDecoder's has B = S.
struct RunState {
  RunState(const ModelConfig& c, int n_batch, int n_seq = 1);

  int n_batch;                      // B: most token rows per forward() call
  int n_seq;                        // S: most sequences (segments) per forward() call
  std::vector<int64_t> pos;         // [B] absolute position of each row in its own sequence
  std::vector<float> x;             // [B][n_embd] residual stream
  std::vector<float> xn;            // [B][n_embd] RMS-normed input of the current sublayer
  std::vector<float> q;             // [B][n_head][head_dim]
  std::vector<float> k;             // [B][n_head_kv][head_dim]
  std::vector<float> v;             // [B][n_head_kv][head_dim]
  std::vector<float> attn;          // [B][n_head][head_dim] attention output, heads concatenated
  std::vector<float> proj;          // [B][n_embd] sublayer output before the residual add
  std::vector<float> gate;          // [B][n_ff] gate projection, then silu(gate) * up
  std::vector<float> up;            // [B][n_ff] up projection
  std::vector<float> logits;        // [S][n_vocab] logits of each segment's last row
  std::vector<float> attn_scratch;  // kernels::attention_scratch_floats(...) floats

  size_t bytes() const;
};

// One sequence's share of a forward() call: the next n_tokens rows of the batch extend `cache`
// from its n_past(). Attention and the K/V store run per segment against its own cache, with
// that cache's attention scratch (sized for its n_ctx); everything else runs over all rows.
struct Segment {
  KvCache* cache = nullptr;
  int n_tokens = 0;
  std::span<float> attn_scratch;
};

// What a Session owns (here rather than in session.cpp because BatchDecoder drives sessions'
// caches too): its KV cache, the run state of its own eval() calls (whose logits row is what
// Session::logits() returns) and its hook.
struct Session::State {
  State(const ModelConfig& c, int n_ctx, int n_batch) : cache(c, n_ctx), run(c, n_batch) {}
  KvCache cache;
  RunState run;
  ActivationHook hook;
};

// Runs tokens (1 .. B rows, ids already validated) split into segments (1 .. S of them, in row
// order, distinct caches, each with room checked by the caller), stores every row's K/V in its
// segment's cache and advances the caches. Writes the logits of every row to all_logits
// ([rows][n_vocab]) when it is non-null, else the last row of segment i to state.logits row i.
void forward(const Model& model, RunState& state, std::span<const Segment> segments,
             std::span<const int32_t> tokens, float* all_logits, const ActivationHook& hook);

}  // namespace smol::engine
