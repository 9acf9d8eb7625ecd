// Private: AVX-512 VNNI prefill kernels over 16-row weight tiles (gemm_avx512.cpp).
#pragma once

#include <cstdint>

namespace smol::kernels::detail {

// Rows per interleaved tile: one int32 lane of a zmm per weight row.
inline constexpr int64_t kInterleaveRows = 16;

// y[t*y_stride + r] = row r of Q4_K W · Q8_K activation row t, for r in [r0, r0 + 16·k) and
// t in [t0, t1), where k = (r1 − r0) / 16 (the caller handles the tail rows). Worth it from
// about 8 tokens on: each 16-row block is decoded and interleaved once per token block.
void gemm_q4_K_interleaved_avx512(const uint8_t* w, int64_t w_stride, const uint8_t* x,
                                  int64_t x_stride, int64_t n, float* y, int64_t y_stride,
                                  int64_t r0, int64_t r1, int64_t t0, int64_t t1);

// The same for Q6_K weights.
void gemm_q6_K_interleaved_avx512(const uint8_t* w, int64_t w_stride, const uint8_t* x,
                                  int64_t x_stride, int64_t n, float* y, int64_t y_stride,
                                  int64_t r0, int64_t r1, int64_t t0, int64_t t1);

}  // namespace smol::kernels::detail
