// AVX-512 VNNI prefill for Q4_K and Q6_K: 16 weight rows at a time, one row per int32 lane.
// (Q4_K tiles are built by transposing the packed quants in registers and unpacking the 16 rows'
// scales side by side; Q6_K rows are unpacked one by one, then transposed the same way.)
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

// 16x16 dword transpose in registers: afterwards m[k] lane r = old m[r] lane k (64 shuffles).
SMOL_AVX512 inline void transpose16(__m512i m[16]) {
  __m512i t[16];
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_epi32(m[i], m[i + 1]);
    t[i + 1] = _mm512_unpackhi_epi32(m[i], m[i + 1]);
  }
  // u[4a + b], 128-bit lane L: column 4L + b of rows 4a..4a+3 (kept in m).
  for (int a = 0; a < 16; a += 4) {
    m[a] = _mm512_unpacklo_epi64(t[a], t[a + 2]);
    m[a + 1] = _mm512_unpackhi_epi64(t[a], t[a + 2]);
    m[a + 2] = _mm512_unpacklo_epi64(t[a + 1], t[a + 3]);
    m[a + 3] = _mm512_unpackhi_epi64(t[a + 1], t[a + 3]);
  }
  // Column 4L + b = lane L of u[b], u[4 + b], u[8 + b], u[12 + b]: a 4x4 transpose of lanes.
  for (int b = 0; b < 4; ++b) {
    const __m512i x0 = _mm512_shuffle_i32x4(m[b], m[4 + b], 0x44);
    const __m512i x1 = _mm512_shuffle_i32x4(m[b], m[4 + b], 0xee);
    const __m512i x2 = _mm512_shuffle_i32x4(m[8 + b], m[12 + b], 0x44);
    const __m512i x3 = _mm512_shuffle_i32x4(m[8 + b], m[12 + b], 0xee);
    t[b] = _mm512_shuffle_i32x4(x0, x2, 0x88);
    t[4 + b] = _mm512_shuffle_i32x4(x0, x2, 0xdd);
    t[8 + b] = _mm512_shuffle_i32x4(x1, x3, 0x88);
    t[12 + b] = _mm512_shuffle_i32x4(x1, x3, 0xdd);
  }
  for (int i = 0; i < 16; ++i) m[i] = t[i];
}

// The packed quants are transposed before unpacking (half the bytes to move): packed dword
// 8c + j of a row holds, in its low nibbles, element dword 16c + j and, in its high nibbles,
// element dword 16c + 8 + j (Q4_K chunk c: low nibbles elements 64c.., high 64c + 32..).
// Not inlined: the transpose's 32 live registers, inlined next to apply_tile, made the compiler
// spill in the token loop (512-token prefill fell from ~85 to ~55 tok/s).
SMOL_AVX512 __attribute__((noinline)) void decode_tile(const uint8_t* w, int64_t w_stride,
                                                       Q4KTile& tile) {
  const __m512i low4 = _mm512_set1_epi8(0x0f);
  for (int half = 0; half < 2; ++half) {
    __m512i m[16];
    for (int r = 0; r < kR; ++r) m[r] = _mm512_loadu_si512(w + r * w_stride + q4k::kQs + 64 * half);
    transpose16(m);
    for (int k = 0; k < 16; ++k) {
      const int c = 2 * half + k / 8, j = k % 8;
      _mm512_store_si512(tile.q[16 * c + j], _mm512_and_si512(m[k], low4));
      _mm512_store_si512(tile.q[16 * c + 8 + j],
                         _mm512_and_si512(_mm512_srli_epi16(m[k], 4), low4));
    }
  }
  // Header (d, dmin, 12 scale bytes) of the 16 rows as dword lanes, unpacked as
  // unpack_q4_K_scales does, 16 rows at a time.
  const __m512i rows =
      _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                         _mm512_set1_epi32(static_cast<int>(w_stride)));
  const __m512i dd = _mm512_i32gather_epi32(rows, w + q4k::kD, 1);
  const __m512i w0 = _mm512_i32gather_epi32(rows, w + q4k::kScales, 1);
  const __m512i w1 = _mm512_i32gather_epi32(rows, w + q4k::kScales + 4, 1);
  const __m512i w2 = _mm512_i32gather_epi32(rows, w + q4k::kScales + 8, 1);
  const __m512i m6 = _mm512_set1_epi32(0x3f3f3f3f), m4 = _mm512_set1_epi32(0x0f0f0f0f),
                m2 = _mm512_set1_epi32(0x03030303);
  const __m512i sc[2] = {
      _mm512_and_si512(w0, m6),
      _mm512_or_si512(_mm512_and_si512(w2, m4),
                      _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(w0, 6), m2), 4))};
  const __m512i mn[2] = {
      _mm512_and_si512(w1, m6),
      _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(w2, 4), m4),
                      _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(w1, 6), m2), 4))};
  const __m512 d = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(dd));
  const __m512i byte = _mm512_set1_epi32(0xff);
  for (int sub = 0; sub < 8; ++sub) {
    const __m512i v = _mm512_and_si512(_mm512_srli_epi32(sc[sub / 4], 8 * (sub % 4)), byte);
    _mm512_store_ps(tile.scale[sub], _mm512_mul_ps(d, _mm512_cvtepi32_ps(v)));
  }
  // mins[j] lane r = m_{2j} | m_{2j+1} << 16: bytes (2j, 2j+1) of the row's mins, widened.
  // vpshufb indexes bytes within each 128-bit lane: dword p of a lane starts at byte 4p.
  const __m512i lane_dword =
      _mm512_setr_epi32(0, 0x40004, 0x80008, 0xc000c, 0, 0x40004, 0x80008, 0xc000c, 0, 0x40004,
                        0x80008, 0xc000c, 0, 0x40004, 0x80008, 0xc000c);
  const __m512i pair_lo =
                    _mm512_or_si512(_mm512_set1_epi32(static_cast<int>(0x80018000u)), lane_dword),
                pair_hi =
                    _mm512_or_si512(_mm512_set1_epi32(static_cast<int>(0x80038002u)), lane_dword);
  _mm512_store_si512(tile.mins[0], _mm512_shuffle_epi8(mn[0], pair_lo));
  _mm512_store_si512(tile.mins[1], _mm512_shuffle_epi8(mn[0], pair_hi));
  _mm512_store_si512(tile.mins[2], _mm512_shuffle_epi8(mn[1], pair_lo));
  _mm512_store_si512(tile.mins[3], _mm512_shuffle_epi8(mn[1], pair_hi));
  _mm512_store_ps(tile.dmin, _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32(dd, 16))));
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

SMOL_AVX512 __attribute__((noinline)) void decode_tile(const uint8_t* w, int64_t w_stride,
                                                       Q6KTile& tile) {
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
  // Interleave: element dword 16c + k of row r goes to lane r of tile.q[16c + k].
  for (int c = 0; c < 4; ++c) {
    __m512i m[16];
    for (int r = 0; r < kR; ++r) m[r] = _mm512_load_si512(rows[r] + 64 * c);
    transpose16(m);
    for (int k = 0; k < 16; ++k) _mm512_store_si512(tile.q[16 * c + k], m[k]);
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

// A tile reads 16 rows side by side: 16 streams, more than the hardware prefetcher follows.
// The next 16-row group is one contiguous range (rows are back to back): each block step asks
// for its share of it, so the group is in cache when its turn comes. Prefetches never fault.
SMOL_AVX512 inline void prefetch_range(const uint8_t* p, int64_t bytes) {
  for (int64_t o = 0; o < bytes; o += 64) {
    _mm_prefetch(reinterpret_cast<const char*>(p + o), _MM_HINT_T0);
  }
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
      const uint8_t* next_group = w + (r + kR) * w_stride;
      const int64_t share = count <= 16 ? (kR * w_stride + nb - 1) / nb : 0;
      for (int64_t i = 0; i < nb; ++i) {
        prefetch_range(next_group + i * share, share);
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
