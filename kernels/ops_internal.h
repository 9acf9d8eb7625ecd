// Private: the per-ISA function table behind smol/ops.h. One table per tier (scalar, AVX2,
// AVX-512); ops.cpp picks one at start-up and every public op makes one indirect call through it,
// never inside an inner loop. The scalar table is the executable spec; the SIMD tables must agree
// with it within the tolerances derived in tests/kernels/ops_*_test.cpp.
#pragma once

#include <cstdint>

namespace smol::kernels::ops_detail {

struct OpsTable {
  void (*rms_norm)(const float* x, const float* weight, float* out, int64_t n, float eps);
  void (*softmax)(float* x, int64_t n);
  void (*silu_mul)(const float* gate, const float* up, float* out, int64_t n);
  void (*add)(const float* a, const float* b, float* out, int64_t n);
  void (*f32_to_f16)(const float* x, uint16_t* out, int64_t n);
  void (*f16_to_f32)(const uint16_t* x, float* out, int64_t n);

  // Replaces x[i] by exp(x[i] - max) and returns their sum (the core of softmax).
  float (*exp_sub_sum)(float* x, int64_t n, float max);
  // Maximum of x[0..n), n >= 1.
  float (*max)(const float* x, int64_t n);

  // Attention scores against an f16 K block:
  //   s[r * ld_s + j] = scale * dot(q[r * hd .. r * hd + hd), k[j * hd .. j * hd + hd))
  // for r < n_q, j < n_k. q rows are f32 (already rounded to f16 by the caller).
  void (*attn_scores)(const float* q, int n_q, const uint16_t* k, int64_t n_k, int hd, float scale,
                      float* s, int64_t ld_s);
  // Probability-weighted sum of f16 V rows:
  //   out[r * hd + d] += sum_j p[r * ld_p + j] * v[j * hd + d]   for r < n_q, j < n_k.
  void (*attn_accum)(const float* p, int n_q, int64_t ld_p, const uint16_t* v, int64_t n_k, int hd,
                     float* out);
};

const OpsTable& scalar_table();
const OpsTable& avx2_table();
const OpsTable& avx512_table();

// The table of the tier in use (ops.cpp).
const OpsTable& active_table();

}  // namespace smol::kernels::ops_detail
