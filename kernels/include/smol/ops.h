// smol/ops.h — the f32 transformer ops of the forward pass: RMSNorm, RoPE (NORM style),
// softmax, SiLU-gate multiply, residual add, f16 row conversion, and causal GQA attention over
// an f16 KV cache.
//
// Goals: one reference (scalar) implementation per op that is the executable spec, with AVX2 and
// AVX-512 tiers; the tier is the one smol/kernels.h selected (CPUID, env
// SMOL_ISA=scalar|avx2|avx512, or set_isa() in tests and benchmarks); numerics
// that follow llama.cpp's CPU backend where that is cheap (documented per op); no allocation in
// any op (attention takes a caller-owned scratch buffer).
// Non-goals: in-kernel input validation (shapes are programmer invariants, checked with
// SMOL_CHECK), quantized activations, NEOX-style RoPE, YaRN / rope scaling, sliding windows.
//
// Shapes are written [outer][inner]; the last index is contiguous. All pointers may be unaligned.
#pragma once

#include <cstddef>
#include <cstdint>

namespace smol::kernels {

// ---------------------------------------------------------------------------------------------
// Elementwise / row ops. Unless stated, `out` may alias an input exactly (in-place) but must not
// partially overlap one.

// out[i] = (x[i] * s) * weight[i], s = 1 / sqrtf(mean(x^2) + eps).
// As llama.cpp: each square is a float product, the sum is accumulated in double, mean and s are
// float, and the two multiplies round separately.
void rms_norm(const float* x, const float* weight, float* out, int64_t n, float eps);

// rms_norm on each of n_rows contiguous rows: x, out [n_rows][n]; one weight [n] for all rows.
// Rows are independent (threaded with OpenMP when n_rows is large; results never depend on the
// thread count).
void rms_norm_rows(const float* x, const float* weight, float* out, int64_t n_rows, int64_t n,
                   float eps);

// RoPE, llama.cpp NORM mode (rotates adjacent pairs), in place on x [n_heads][head_dim] of one
// token at position pos. head_dim must be even; the whole head is rotated (n_rot = head_dim).
// For pair i in 0..head_dim/2-1:
//   theta_i = pos * freq_base^(-2i/head_dim), built as ggml does: theta_0 = (float)pos, then
//             theta_{i+1} = theta_i * theta_scale in float, theta_scale = powf(base, -2/head_dim);
//   x[2i]   <- x[2i] cos(theta_i) - x[2i+1] sin(theta_i)
//   x[2i+1] <- x[2i] sin(theta_i) + x[2i+1] cos(theta_i)      (cosf / sinf of the float theta)
// NoPE layers (SmolLM3: (layer + 1) % 4 == 0) simply do not call it: identity.
void rope_norm(float* x, int n_heads, int head_dim, int64_t pos, float freq_base);

// rope_norm for n_tokens tokens: x [n_tokens][n_heads][head_dim], token t at position pos[t].
void rope_norm_tokens(float* x, int n_tokens, int n_heads, int head_dim, const int64_t* pos,
                      float freq_base);

// In-place softmax over x[0..n): x[i] = exp(x[i] - max) / sum. n >= 1. A row of all -inf is a
// programmer error (no defined result).
void softmax(float* x, int64_t n);

// out[i] = silu(gate[i]) * up[i], silu(z) = z / (1 + exp(-z)). The SIMD tiers use a polynomial
// exp accurate to a few ulp (as does llama.cpp's).
void silu_mul(const float* gate, const float* up, float* out, int64_t n);

// out[i] = a[i] + b[i] (residual add; out may be a or b).
void add(const float* a, const float* b, float* out, int64_t n);

// IEEE binary16 row conversions, round-to-nearest-even; bit-identical in every tier (F16C).
void f32_to_f16_row(const float* x, uint16_t* out, int64_t n);
void f16_to_f32_row(const uint16_t* x, float* out, int64_t n);

// ---------------------------------------------------------------------------------------------
// KV cache and attention.
//
// One layer's cache: K and V are each [n_head_kv][n_ctx][head_dim] binary16 values, so all
// positions of one KV head are contiguous (decode streams one KV head's rows in order; the query
// heads that share it reuse every row while it is in L1). Total per layer:
// 2 * n_head_kv * n_ctx * head_dim * 2 bytes (SmolLM3, n_ctx 4096: 8 MiB per layer).
// The view does not own memory; the engine allocates `elements()` uint16_t for each of k and v.
struct KvCacheView {
  uint16_t* k = nullptr;  // [n_head_kv][n_ctx][head_dim]
  uint16_t* v = nullptr;  // [n_head_kv][n_ctx][head_dim]
  int n_head_kv = 0;
  int n_ctx = 0;  // capacity in positions
  int head_dim = 0;

  size_t elements() const {
    return static_cast<size_t>(n_head_kv) * static_cast<size_t>(n_ctx) *
           static_cast<size_t>(head_dim);
  }
  // Offset of (kv head g, position p) in k or v.
  size_t offset(int g, int64_t p) const {
    return (static_cast<size_t>(g) * static_cast<size_t>(n_ctx) + static_cast<size_t>(p)) *
           static_cast<size_t>(head_dim);
  }
};

// Stores one token's k and v (each [n_head_kv][head_dim] f32, rounded to f16) at position pos.
// 0 <= pos < n_ctx.
void kv_store(const KvCacheView& cache, int64_t pos, const float* k, const float* v);

// Stores n_tokens tokens at positions pos0..pos0+n_tokens-1; k, v [n_tokens][n_head_kv][head_dim].
void kv_store_tokens(const KvCacheView& cache, int64_t pos0, int n_tokens, const float* k,
                     const float* v);

// Number of floats of scratch that attention() needs for a cache shaped like `cache`, n_head
// query heads and up to n_threads OpenMP threads (kernels::num_threads() at call time is used,
// capped by what the scratch holds). Independent of n_tokens. Per thread it is the larger of
// about (n_head / n_head_kv) * (n_ctx + head_dim) floats (decode keeps each query head's full
// score row) and a fixed prefill tile (139,520 floats = 0.53 MiB at SmolLM3 shapes).
size_t attention_scratch_floats(const KvCacheView& cache, int n_head, int n_threads);

// Causal GQA attention for n_tokens query tokens at positions pos0 .. pos0+n_tokens-1, whose k/v
// are already stored in the cache.
//   q   [n_tokens][n_head][head_dim] f32
//   out [n_tokens][n_head][head_dim] f32 (must not overlap q)
// Query head h uses KV head h / (n_head / n_head_kv); token t attends to cache positions
// 0 .. pos0 + t. out = softmax(scale * q . k^T) . v, accumulated in f32.
// As llama.cpp's CPU flash attention (f16 cache): q is rounded to f16 before the q.k dot when
// n_tokens < 64 (its one-chunk kernel, decode included) and kept in f32 for 64 or more (its tiled
// kernel). When, in addition, pos0 + n_tokens <= 256 (llama.cpp: fewer than 512 padded cells,
// where a decode does not take its split-KV kernel), each row also runs its one-chunk algorithm:
// positions in order, online softmax, V accumulator rounded to f16 after every step. Otherwise
// the accumulator is f32 and prefill uses an online softmax over blocks of cache positions. Only
// the summation order of q.k and of the tiled softmax differs from llama.cpp, not bit-exact.
// Threaded with OpenMP over KV heads (decode) or KV heads x query tiles (prefill); the result does
// not depend on the thread count. Prefill sets OpenBLAS (process-wide) to one thread for the
// duration of the call and restores it after. No allocation.
// Requirements (SMOL_CHECK): n_head % n_head_kv == 0, pos0 >= 0, n_tokens >= 1,
// pos0 + n_tokens <= n_ctx, scratch_floats >= attention_scratch_floats(cache, n_head, 1).
void attention(const float* q, const KvCacheView& cache, int n_head, int64_t pos0, int n_tokens,
               float scale, float* out, float* scratch, size_t scratch_floats);

}  // namespace smol::kernels
