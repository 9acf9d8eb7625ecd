// The SmolLM3 / Llama forward pass, in model order. Read top to bottom.
//
// Per token (llama.cpp's graph for smollm3, facts §1.4):
//   x = token_embd[id]
//   for each layer il:
//     h = rmsnorm(x) * attn_norm
//     q, k, v = Wq h, Wk h, Wv h                   q: [n_head][hd], k, v: [n_head_kv][hd]
//     if uses_rope[il]: rotate adjacent pairs of q and k by position (NORM RoPE)
//     cache[il] <- k, v (f16)
//     a = softmax(q k^T / sqrt(hd) + causal) v    query head h reads kv head h / n_gqa
//     x = x + Wo a
//     h = rmsnorm(x) * ffn_norm
//     x = x + Wdown (silu(Wgate h) * Wup h)
//   logits = Wout (rmsnorm(x) * output_norm)      Wout = token_embd when tied
//
// A batch of n tokens runs the same code with [n][width] buffers: the projections become
// matmuls (one activation quantization per matrix, weights streamed once per batch) and attention
// is causal inside the batch. The rows may belong to several sequences (segments): a prefill
// chunk is one segment of n rows, a batched decode is n segments of one row each. Only the RoPE
// positions, the K/V store and attention depend on the sequence; every other op is per row.
// Nothing here allocates, checks an ISA or switches on a format: the kernels dispatch once per
// call on the weight's type.
#include "forward.h"

#include "smol/kernels.h"
#include "smol/ops.h"

namespace smol::engine {

namespace {

size_t sz(int64_t n) { return static_cast<size_t>(n); }

// y[t] = W x[t] for t < n. x: [n][W.cols], y: [n][W.rows].
void linear(const WeightView& w, const float* x, int n, float* y) {
  if (n == 1) {
    kernels::matvec(w.type, w.data, w.rows, w.cols, x, y);
  } else {
    kernels::matmul(w.type, w.data, w.rows, w.cols, x, n, y);
  }
}

// One projection of an input that several share (Q, K, V; gate, up), for kernels::matmul_multi:
// the input is quantized once and the threads work through all of their rows in one go.
kernels::MatmulTarget target(const WeightView& w, int64_t cols, float* y) {
  SMOL_CHECK(w.cols == cols, "forward: projections of one input must share its width");
  return {w.type, w.data, w.rows, y};
}

// Row `id` of a (possibly quantized) matrix as f32: the embedding lookup.
void lookup_row(const WeightView& w, int32_t id, float* out) {
  const auto* base = static_cast<const uint8_t*>(w.data);
  const int64_t row_bytes = kernels::row_bytes(w.type, w.cols);
  kernels::dequantize_row(w.type, base + row_bytes * id, out, w.cols);
}

}  // namespace

RunState::RunState(const ModelConfig& c, int n_batch_, int n_seq_)
    : n_batch(n_batch_),
      n_seq(n_seq_),
      pos(sz(n_batch_)),
      x(sz(n_batch_) * sz(c.n_embd)),
      xn(sz(n_batch_) * sz(c.n_embd)),
      q(sz(n_batch_) * sz(c.n_q())),
      k(sz(n_batch_) * sz(c.n_kv())),
      v(sz(n_batch_) * sz(c.n_kv())),
      attn(sz(n_batch_) * sz(c.n_q())),
      proj(sz(n_batch_) * sz(c.n_embd)),
      gate(sz(n_batch_) * sz(c.n_ff)),
      up(sz(n_batch_) * sz(c.n_ff)),
      logits(sz(n_seq_) * sz(c.n_vocab)) {}

size_t RunState::bytes() const {
  return pos.size() * sizeof(int64_t) +
         (x.size() + xn.size() + q.size() + k.size() + v.size() + attn.size() + proj.size() +
          gate.size() + up.size() + logits.size() + attn_scratch.size()) *
             sizeof(float);
}

void forward(const Model& model, RunState& s, std::span<const Segment> segments,
             std::span<const int32_t> tokens, float* all_logits, const ActivationHook& hook) {
  const ModelConfig& c = model.config();
  const ModelWeights& w = model.weights();
  const int n = static_cast<int>(tokens.size());
  const int n_seg = static_cast<int>(segments.size());
  SMOL_CHECK(n >= 1 && n <= s.n_batch, "forward: batch size out of range");
  SMOL_CHECK(n_seg >= 1 && n_seg <= s.n_seq, "forward: segment count out of range");
  const int64_t n_embd = c.n_embd;

  auto emit = [&](const char* name, int layer, int width, const float* data) {
    if (hook) hook(name, layer, n, width, data);
  };

  // Each row's position in its own sequence (segments take consecutive rows).
  int rows = 0;
  for (const Segment& seg : segments) {
    SMOL_CHECK(
        seg.n_tokens >= 1 && rows + seg.n_tokens <= n && seg.cache->check_room(seg.n_tokens).ok(),
        "forward: caller must check the segments and their context room");
    for (int t = 0; t < seg.n_tokens; ++t) s.pos[sz(rows + t)] = seg.cache->n_past() + t;
    rows += seg.n_tokens;
  }
  SMOL_CHECK(rows == n, "forward: segments must cover the batch");

  // Embedding lookup: [n][n_embd], no scaling.
  for (int t = 0; t < n; ++t) lookup_row(w.token_embd, tokens[sz(t)], &s.x[sz(t * n_embd)]);
  emit("embd", -1, c.n_embd, s.x.data());

  for (int il = 0; il < c.n_layer; ++il) {
    const LayerWeights& l = w.layers[sz(il)];

    // ---- Attention sublayer ----
    kernels::rms_norm_rows(s.x.data(), l.attn_norm, s.xn.data(), n, n_embd, c.rms_eps);
    emit("attn_norm", il, c.n_embd, s.xn.data());

    const kernels::MatmulTarget qkv[] = {
        target(l.attn_q, n_embd, s.q.data()),  // [n][n_head][head_dim]
        target(l.attn_k, n_embd, s.k.data()),  // [n][n_head_kv][head_dim]
        target(l.attn_v, n_embd, s.v.data()),  // [n][n_head_kv][head_dim]
    };
    kernels::matmul_multi(qkv, n_embd, s.xn.data(), n);
    emit("q", il, c.n_q(), s.q.data());
    emit("k", il, c.n_kv(), s.k.data());
    emit("v", il, c.n_kv(), s.v.data());

    // NoPE layers (SmolLM3: every 4th) pass q and k through with no position information.
    if (c.uses_rope[sz(il)]) {
      kernels::rope_norm_tokens(s.q.data(), n, c.n_head, c.head_dim, s.pos.data(),
                                c.rope_freq_base);
      kernels::rope_norm_tokens(s.k.data(), n, c.n_head_kv, c.head_dim, s.pos.data(),
                                c.rope_freq_base);
      emit("q_rope", il, c.n_q(), s.q.data());
      emit("k_rope", il, c.n_kv(), s.k.data());
    }

    // Per sequence: store its rows' K/V in its cache, then attend causally over that cache.
    int64_t row = 0;
    for (const Segment& seg : segments) {
      const kernels::KvCacheView kv = seg.cache->layer(il);
      const int64_t pos0 = seg.cache->n_past();
      kernels::kv_store_tokens(kv, pos0, seg.n_tokens, &s.k[sz(row * c.n_kv())],
                               &s.v[sz(row * c.n_kv())]);
      kernels::attention(&s.q[sz(row * c.n_q())], kv, c.n_head, pos0, seg.n_tokens, c.attn_scale(),
                         &s.attn[sz(row * c.n_q())], seg.attn_scratch.data(),
                         seg.attn_scratch.size());
      row += seg.n_tokens;
    }
    emit("attn_out", il, c.n_q(), s.attn.data());

    linear(l.attn_output, s.attn.data(), n, s.proj.data());  // [n][n_embd]
    emit("attn_proj", il, c.n_embd, s.proj.data());
    kernels::add(s.x.data(), s.proj.data(), s.x.data(), n * n_embd);
    emit("ffn_inp", il, c.n_embd, s.x.data());

    // ---- Feed-forward sublayer (SiLU-gated) ----
    kernels::rms_norm_rows(s.x.data(), l.ffn_norm, s.xn.data(), n, n_embd, c.rms_eps);
    emit("ffn_norm", il, c.n_embd, s.xn.data());

    const kernels::MatmulTarget gate_up[] = {
        target(l.ffn_gate, n_embd, s.gate.data()),  // [n][n_ff]
        target(l.ffn_up, n_embd, s.up.data()),      // [n][n_ff]
    };
    kernels::matmul_multi(gate_up, n_embd, s.xn.data(), n);
    emit("ffn_gate", il, c.n_ff, s.gate.data());
    emit("ffn_up", il, c.n_ff, s.up.data());
    kernels::silu_mul(s.gate.data(), s.up.data(), s.gate.data(), int64_t{n} * c.n_ff);
    emit("ffn_act", il, c.n_ff, s.gate.data());

    linear(l.ffn_down, s.gate.data(), n, s.proj.data());  // [n][n_embd]
    emit("ffn_out", il, c.n_embd, s.proj.data());
    kernels::add(s.x.data(), s.proj.data(), s.x.data(), n * n_embd);
    emit("l_out", il, c.n_embd, s.x.data());
  }
  for (const Segment& seg : segments) seg.cache->advance(seg.n_tokens);

  // ---- Output head: only the rows whose logits are wanted ----
  if (all_logits) {
    kernels::rms_norm_rows(s.x.data(), w.output_norm, s.xn.data(), n, n_embd, c.rms_eps);
    emit("result_norm", -1, c.n_embd, s.xn.data());
    linear(w.output, s.xn.data(), n, all_logits);  // [n][n_vocab]
    if (hook) hook("logits", -1, n, c.n_vocab, all_logits);
  } else {
    // The last row of each segment, gathered into xn: [n_seg][n_embd].
    int64_t end = 0;
    for (int i = 0; i < n_seg; ++i) {
      end += segments[sz(i)].n_tokens;
      kernels::rms_norm(&s.x[sz((end - 1) * n_embd)], w.output_norm, &s.xn[sz(i * n_embd)], n_embd,
                        c.rms_eps);
    }
    if (hook) hook("result_norm", -1, n_seg, c.n_embd, s.xn.data());
    linear(w.output, s.xn.data(), n_seg, s.logits.data());  // [n_seg][n_vocab]
    if (hook) hook("logits", -1, n_seg, c.n_vocab, s.logits.data());
  }
}

}  // namespace smol::engine
