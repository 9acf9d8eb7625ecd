// Private: the per-ISA function table behind smol/kernels.h. One table per tier; dispatch.cpp
// picks one at start-up (or on set_isa) and each public call makes one indirect call through it,
// outside every inner loop. The scalar table is the executable spec.
#pragma once

#include <cstdint>

#include "smol/kernels.h"

namespace smol::kernels::detail {

// Row-range × token-range product of a weight matrix with prepared activations:
//   y[t*y_stride + r] = dot(row r of W, activation row t)   for r in [r0, r1), t in [t0, t1).
// Row r of W starts at w + r*w_stride bytes; activation row t at x + t*x_stride bytes and is
// already in the weight's vec_dot type (Q8_K for Q4_K/Q6_K, Q8_0 for Q8_0, f32 for F32/F16).
// `n` is the row length in elements.
using GemmFn = void (*)(const uint8_t* w, int64_t w_stride, const uint8_t* x, int64_t x_stride,
                        int64_t n, float* y, int64_t y_stride, int64_t r0, int64_t r1, int64_t t0,
                        int64_t t1);

struct KernelTable {
  Isa isa;
  void (*quantize_q8_K)(const float* x, void* y, int64_t n);
  float (*dot_q4_K)(int64_t n, const void* w, const void* a);
  float (*dot_q6_K)(int64_t n, const void* w, const void* a);
  float (*dot_q8_0)(int64_t n, const void* w, const void* a);
  float (*dot_f16)(int64_t n, const uint16_t* w, const float* x);
  float (*dot_f32)(int64_t n, const float* w, const float* x);
  GemmFn gemm_q4_K;
  GemmFn gemm_q6_K;
  GemmFn gemm_q8_0;
  GemmFn gemm_f16;
  GemmFn gemm_f32;
  // Decode (one token) hands rows out in shrinking claims from a shared counter instead of one
  // even range per thread. On the Zen 3 the AVX2 tier's threads finish matvecs apart (9.5% of
  // decode in spin-waits) and shared rows gained 2-4%; on the Zen 4 chunks of 64-256 rows cost
  // the AVX-512 row pairs 5-11% (docs/performance.md, sessions 6, 8 and 10).
  bool decode_shared_rows;
  // Q4_K activations as this tier's gemm_q4_K reads them, made once per call from the Q8_K
  // blocks (bytes per 256-element block; nullptr / 0: it reads Q8_K as it is). The AVX2 tier's
  // lane layout lives here, so no row chunk or token block rebuilds it.
  void (*q4_K_acts)(const uint8_t* q8_K, uint8_t* out, int64_t n_blocks);
  int64_t q4_K_act_block_bytes;
};

const KernelTable& scalar_kernels();
const KernelTable& avx2_kernels();
const KernelTable& avx512_kernels();
const KernelTable& active_kernels();  // dispatch.cpp

// Reference Q8_K quantizer (quantize_ref.cpp); also the scalar tier's entry.
void quantize_row_q8_K_ref(const float* x, void* y, int64_t n);

// Generic gemm over a dot function: what every tier uses for the types it does not tile.
template <typename Dot>
inline void gemm_by_rows(Dot dot, const uint8_t* w, int64_t w_stride, const uint8_t* x,
                         int64_t x_stride, int64_t n, float* y, int64_t y_stride, int64_t r0,
                         int64_t r1, int64_t t0, int64_t t1) {
  for (int64_t t = t0; t < t1; ++t) {
    for (int64_t r = r0; r < r1; ++r) {
      y[t * y_stride + r] = dot(n, w + r * w_stride, x + t * x_stride);
    }
  }
}

}  // namespace smol::kernels::detail
