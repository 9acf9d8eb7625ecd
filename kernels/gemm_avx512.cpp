// AVX-512 VNNI prefill for Q4_K and Q6_K: 16 weight rows at a time, one row per int32 lane.
//
// llama.cpp has no VNNI path for K-quant dot products; its AVX2 recipe spends two multiplies
// (maddubs + madd) per 32 weights per token. Here a 16-row block is unpacked once into an
// interleaved u8 tile (dword k of lane r = elements 4k..4k+3 of row r) and every token then
// needs one vpdpbusd per 64 weight·activation products, with the activation dword broadcast
// from memory. Sub-block scales (d·sc per row) are applied in float once per 32 elements, and
// the mins term is 4 vpdpwssd against the token's pairwise bsums. Q6_K works the same way with
// q6 in 0..63, float scales per 16 elements and the −32 offset folded in through the bsums.
//
// Results agree with the row kernels up to float rounding (scales applied per sub-block in
// float instead of per block after an exact integer sum); the bound is the same order.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include "gemm_avx512.h"

#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "block_io.h"

#define SMOL_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")))

namespace smol::kernels::detail {

namespace {

// fp16 -> f32 with F16C (exact, like fp16_to_fp32, but one instruction instead of a branchy
// bit-twiddle in every block).
SMOL_AVX512 inline float f16c_load(const uint8_t* p) { return _cvtsh_ss(load_u16(p)); }

constexpr int kR = static_cast<int>(kInterleaveRows);
constexpr int kTokens = 4;  // tokens per pass over a decoded tile (shares each weight load)
constexpr int64_t kMaxTokenBlock = 512;  // tokens per decoded tile (accumulators: 32 KiB)

// One Q4_K super-block of 16 rows, ready for vpdpbusd.
struct alignas(64) Q4KTile {
  uint8_t q[64][64];    // q[k][4r + j] = quant of element 4k + j of row r (0..15)
  float scale[8][kR];   // d_r · sc_{r,s}
  int32_t mins[4][kR];  // m_{r,2j} | m_{r,2j+1} << 16 (s16 pairs for vpdpwssd)
  float dmin[kR];       // dmin_r
};

SMOL_AVX512 void decode_tile(const uint8_t* w, int64_t w_stride, Q4KTile& tile) {
  alignas(64) uint8_t rows[kR][256];
  const __m512i low4 = _mm512_set1_epi8(0x0f);
  const __m512i shifts = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(4), 1);
  for (int r = 0; r < kR; ++r) {
    const uint8_t* b = w + r * w_stride;
    for (int c = 0; c < 4; ++c) {
      const __m512i raw = _mm512_broadcast_i64x4(
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + q4k::kQs + 32 * c)));
      _mm512_store_si512(rows[r] + 64 * c, _mm512_and_si512(_mm512_srlv_epi16(raw, shifts), low4));
    }
    const Q4KScales s = unpack_q4_K_scales(b + q4k::kScales);
    const float d = f16c_load(b + q4k::kD);
    for (int sub = 0; sub < 8; ++sub)
      tile.scale[sub][r] = d * static_cast<float>(q4k_byte(s.sc, sub));
    for (int j = 0; j < 4; ++j) {
      tile.mins[j][r] = q4k_byte(s.m, 2 * j) | (q4k_byte(s.m, 2 * j + 1) << 16);
    }
    tile.dmin[r] = f16c_load(b + q4k::kDmin);
  }
  const __m512i lanes =
      _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                         _mm512_set1_epi32(256));
  for (int k = 0; k < 64; ++k) {
    _mm512_store_si512(tile.q[k], _mm512_i32gather_epi32(lanes, rows[0] + 4 * k, 1));
  }
}

// acc[j] (16 rows) += this block's contribution for tokens a[0..T).
template <int T>
SMOL_AVX512 inline void apply_tile(const Q4KTile& tile, const uint8_t* const* a, __m512* acc) {
  __m512 fsum[T];
  for (int j = 0; j < T; ++j) fsum[j] = _mm512_setzero_ps();
#pragma GCC unroll 8
  for (int s = 0; s < 8; ++s) {
    __m512i isum[T];
    for (int j = 0; j < T; ++j) isum[j] = _mm512_setzero_si512();
#pragma GCC unroll 8
    for (int k = 8 * s; k < 8 * s + 8; ++k) {
      const __m512i wq = _mm512_load_si512(tile.q[k]);
      for (int j = 0; j < T; ++j) {
        const __m512i av = _mm512_set1_epi32(static_cast<int>(load_u32(a[j] + q8k::kQs + 4 * k)));
        isum[j] = _mm512_dpbusd_epi32(isum[j], wq, av);
      }
    }
    const __m512 sc = _mm512_load_ps(tile.scale[s]);
    for (int j = 0; j < T; ++j) fsum[j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[j]), sc, fsum[j]);
  }
  const __m512 dmin = _mm512_load_ps(tile.dmin);
  for (int j = 0; j < T; ++j) {
    // Pairwise bsums = per-sub-block sums P0..P7 as s16; dword p is the (P2p, P2p+1) pair.
    const uint8_t* bs = a[j] + q8k::kBsums;
    alignas(16) int32_t pairs[4];
    _mm_store_si128(reinterpret_cast<__m128i*>(pairs),
                    _mm_hadd_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(bs)),
                                   _mm_loadu_si128(reinterpret_cast<const __m128i*>(bs + 16))));
    __m512i im = _mm512_setzero_si512();
    for (int p = 0; p < 4; ++p) {
      im = _mm512_dpwssd_epi32(im, _mm512_load_si512(tile.mins[p]), _mm512_set1_epi32(pairs[p]));
    }
    const __m512 f = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(im), dmin, fsum[j]);
    acc[j] = _mm512_fmadd_ps(f, _mm512_set1_ps(load_f32(a[j] + q8k::kD)), acc[j]);
  }
}

// ---- Q6_K ----------------------------------------------------------------------------------

// One Q6_K super-block of 16 rows: q6 in 0..63 (u8), group scales in float, and the signed
// group scales as s16 pairs for the −32 offset (Σ_g sc_g·bsums_g by vpdpwssd).
struct alignas(64) Q6KTile {
  uint8_t q[64][64];    // q[k][4r + j] = q6 of element 4k + j of row r
  float scale[16][kR];  // d_r · sc_{r,g}
  int32_t sc[8][kR];    // sc_{r,2p} | sc_{r,2p+1} << 16
  float d32[kR];        // 32 · d_r
};

SMOL_AVX512 void decode_tile(const uint8_t* w, int64_t w_stride, Q6KTile& tile) {
  alignas(64) uint8_t rows[kR][256];
  const __m512i low4 = _mm512_set1_epi8(0x0f);
  const __m512i hmask = _mm512_set1_epi8(0x30);
  const __m512i shl = _mm512_inserti64x4(_mm512_set1_epi16(4), _mm256_set1_epi16(2), 1);
  const __m512i shr = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(2), 1);
  for (int r = 0; r < kR; ++r) {
    const uint8_t* b = w + r * w_stride;
    for (int h = 0; h < 2; ++h) {
      const __m512i ql = _mm512_loadu_si512(b + q6k::kQl + 64 * h);
      const __m512i qh = _mm512_broadcast_i64x4(
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + q6k::kQh + 32 * h)));
      _mm512_store_si512(rows[r] + 128 * h,
                         _mm512_or_si512(_mm512_and_si512(ql, low4),
                                         _mm512_and_si512(_mm512_sllv_epi16(qh, shl), hmask)));
      _mm512_store_si512(rows[r] + 128 * h + 64,
                         _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql, 4), low4),
                                         _mm512_and_si512(_mm512_srlv_epi16(qh, shr), hmask)));
    }
    const float d = f16c_load(b + q6k::kD);
    const auto* sc = reinterpret_cast<const int8_t*>(b + q6k::kScales);
    for (int g = 0; g < 16; ++g) tile.scale[g][r] = d * static_cast<float>(sc[g]);
    for (int p = 0; p < 8; ++p) {
      tile.sc[p][r] =
          static_cast<int32_t>((static_cast<uint32_t>(static_cast<uint16_t>(sc[2 * p + 1])) << 16) |
                               static_cast<uint16_t>(sc[2 * p]));
    }
    tile.d32[r] = 32.0f * d;
  }
  const __m512i lanes =
      _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                         _mm512_set1_epi32(256));
  for (int k = 0; k < 64; ++k) {
    _mm512_store_si512(tile.q[k], _mm512_i32gather_epi32(lanes, rows[0] + 4 * k, 1));
  }
}

template <int T>
SMOL_AVX512 inline void apply_tile(const Q6KTile& tile, const uint8_t* const* a, __m512* acc) {
  __m512 fsum[T];
  for (int j = 0; j < T; ++j) fsum[j] = _mm512_setzero_ps();
#pragma GCC unroll 16
  for (int g = 0; g < 16; ++g) {
    __m512i isum[T];
    for (int j = 0; j < T; ++j) isum[j] = _mm512_setzero_si512();
#pragma GCC unroll 4
    for (int k = 4 * g; k < 4 * g + 4; ++k) {
      const __m512i wq = _mm512_load_si512(tile.q[k]);
      for (int j = 0; j < T; ++j) {
        const __m512i av = _mm512_set1_epi32(static_cast<int>(load_u32(a[j] + q8k::kQs + 4 * k)));
        isum[j] = _mm512_dpbusd_epi32(isum[j], wq, av);
      }
    }
    const __m512 sc = _mm512_load_ps(tile.scale[g]);
    for (int j = 0; j < T; ++j) fsum[j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[j]), sc, fsum[j]);
  }
  const __m512 d32 = _mm512_load_ps(tile.d32);
  for (int j = 0; j < T; ++j) {
    // (q6 − 32)·a: subtract 32·d·Σ_g sc_g·bsums_g; bsums dword p is the (2p, 2p+1) pair.
    const uint8_t* bs = a[j] + q8k::kBsums;
    __m512i corr = _mm512_setzero_si512();
    for (int p = 0; p < 8; ++p) {
      corr = _mm512_dpwssd_epi32(corr, _mm512_load_si512(tile.sc[p]),
                                 _mm512_set1_epi32(static_cast<int>(load_u32(bs + 4 * p))));
    }
    const __m512 f = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(corr), d32, fsum[j]);
    acc[j] = _mm512_fmadd_ps(f, _mm512_set1_ps(load_f32(a[j] + q8k::kD)), acc[j]);
  }
}

// ---- Driver ----------------------------------------------------------------------------------

// Block-major copy of the activations of tokens [t0, t1): block i of token t at
// ((i·count) + t − t0)·292, so a decoded tile walks its tokens' blocks contiguously (rows of
// 11008 would otherwise put every token on its own page). Grow-only, per thread.
SMOL_AVX512 const uint8_t* block_major(const uint8_t* x, int64_t x_stride, int64_t nb, int64_t t0,
                                       int64_t t1) {
  thread_local std::vector<uint8_t> buf;
  const int64_t count = t1 - t0;
  const size_t bytes = static_cast<size_t>(nb * count) * q8k::kBytes;
  if (buf.size() < bytes) buf.resize(bytes);
  for (int64_t t = t0; t < t1; ++t) {
    for (int64_t i = 0; i < nb; ++i) {
      std::memcpy(buf.data() + (i * count + t - t0) * q8k::kBytes,
                  x + t * x_stride + i * q8k::kBytes, q8k::kBytes);
    }
  }
  return buf.data();
}

template <typename Tile, size_t kBlockBytes>
SMOL_AVX512 void gemm_interleaved(const uint8_t* w, int64_t w_stride, const uint8_t* x,
                                  int64_t x_stride, int64_t n, float* y, int64_t y_stride,
                                  int64_t r0, int64_t r1, int64_t t0, int64_t t1) {
  const int64_t nb = n / kQK;
  thread_local Tile tile;
  alignas(64) float out[kR];
  for (int64_t tb = t0; tb < t1; tb += kMaxTokenBlock) {
    const int64_t te = std::min(t1, tb + kMaxTokenBlock), count = te - tb;
    const uint8_t* xb = block_major(x, x_stride, nb, tb, te);
    for (int64_t r = r0; r + kR <= r1; r += kR) {
      // acc[t][16 rows], kept across the row's blocks: each tile is decoded once per token block.
      __m512 acc[kMaxTokenBlock];
      for (int64_t t = 0; t < count; ++t) acc[t] = _mm512_setzero_ps();
      for (int64_t i = 0; i < nb; ++i) {
        decode_tile(w + r * w_stride + i * kBlockBytes, w_stride, tile);
        const uint8_t* xi = xb + i * count * q8k::kBytes;
        int64_t t = 0;
        for (; t + kTokens <= count; t += kTokens) {
          const uint8_t* a[kTokens];
          for (int j = 0; j < kTokens; ++j) a[j] = xi + (t + j) * q8k::kBytes;
          apply_tile<kTokens>(tile, a, acc + t);
        }
        for (; t < count; ++t) {
          const uint8_t* a[1] = {xi + t * q8k::kBytes};
          apply_tile<1>(tile, a, acc + t);
        }
      }
      for (int64_t t = 0; t < count; ++t) {
        _mm512_store_ps(out, acc[t]);
        std::memcpy(y + (tb + t) * y_stride + r, out, sizeof out);
      }
    }
  }
}

}  // namespace

SMOL_AVX512 void gemm_q4_K_interleaved_avx512(const uint8_t* w, int64_t w_stride, const uint8_t* x,
                                              int64_t x_stride, int64_t n, float* y,
                                              int64_t y_stride, int64_t r0, int64_t r1, int64_t t0,
                                              int64_t t1) {
  gemm_interleaved<Q4KTile, q4k::kBytes>(w, w_stride, x, x_stride, n, y, y_stride, r0, r1, t0, t1);
}

SMOL_AVX512 void gemm_q6_K_interleaved_avx512(const uint8_t* w, int64_t w_stride, const uint8_t* x,
                                              int64_t x_stride, int64_t n, float* y,
                                              int64_t y_stride, int64_t r0, int64_t r1, int64_t t0,
                                              int64_t t1) {
  gemm_interleaved<Q6KTile, q6k::kBytes>(w, w_stride, x, x_stride, n, y, y_stride, r0, r1, t0, t1);
}

}  // namespace smol::kernels::detail
