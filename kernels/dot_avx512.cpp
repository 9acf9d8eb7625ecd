// AVX-512 tier: AVX-512 F/BW/VL plus VNNI (vpdpwssd, vpdpbusd). Every function carries the target
// attribute; nothing here is inline in a header (no ODR hazard for generic code).
//
// K-quant recipe, per 256-weight block and token: the weights unpacked to u8 (0..15 for Q4_K,
// 0..63 for Q6_K; decoded once per block, shared by every token), four vpdpbusd against the
// Q8_K activations (-> s32 lanes of 4 products each, |lane| <= 4·63·128 < 2^15), two vpackssdw
// (exact: nothing saturates) and two vpdpwssd with the s16 sub-block scales. That is 6
// multiplies per token where vpmaddubsw + vpdpwssd per 64 weights took 8; the packs run on the
// shuffle ports. One float FMA per block applies d·d_a.
// The Q4_K mins and the Q6_K -32 offset need the activations' 16-element sums: they are taken in
// float, once per token and block (da·bsums, `scaled_bsums`), against weight-side factors made
// once per block (dmin·m, 32·d·sc), so each further token costs one FMA for them instead of an
// integer dot, a conversion and a broadcast. Batched decode pays the per-token work once per
// stream; it is what limits several streams.
//
// The row gemm kernels decode a weight block once and apply it to up to kTile tokens. Q6_K and
// a lone Q4_K token use exactly the dot kernel's operations per (row, token); Q4_K takes the
// other tokens in pairs, which share the packs' vectors, the conversion and both FMAs (same
// integer sums, another float summation order). Prefill (8+ tokens) uses the interleaved 16-row
// kernels of gemm_avx512.cpp instead.
// GCC 12 warns about the deliberately undefined upper halves inside its own AVX-512 intrinsics
// (_mm512_undefined_*); a known false positive. Diagnostics only: code generation is unaffected.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <immintrin.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "block_io.h"
#include "gemm_avx512.h"
#include "kernel_table.h"

#define SMOL_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")))

namespace smol::kernels::detail {

namespace {

// fp16 -> f32 with F16C (exact, like fp16_to_fp32, but one instruction instead of a branchy
// bit-twiddle in every block).
SMOL_AVX512 inline float f16c_load(const uint8_t* p) { return _cvtsh_ss(load_u16(p)); }

constexpr int kTile = 4;             // tokens sharing one decoded weight block (registers)
constexpr int64_t kTokenBlock = 64;  // tokens per pass over a row range (activations stay in L2)

SMOL_AVX512 inline __m256i loadu256(const uint8_t* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}
SMOL_AVX512 inline __m512i loadu512(const uint8_t* p) { return _mm512_loadu_si512(p); }

SMOL_AVX512 inline float hsum128(__m128 m) {
  m = _mm_add_ps(m, _mm_movehl_ps(m, m));
  m = _mm_add_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

// ---- Q4_K ----------------------------------------------------------------------------------

// vpackssdw interleaves its two sources per 128-bit lane: words 8k..8k+3 come from dwords
// 4k..4k+3 of the first, words 8k+4..8k+7 from the same dwords of the second. These tables give
// the sub-block (Q4_K, 32 weights) or group (Q6_K, 16 weights) behind every word of pack(P0, P1),
// where Pc = vpdpbusd over weights 64c..64c+63; pack(P2, P3) is the same plus 4 (Q4_K) or 8.
alignas(64) constexpr int16_t kQ4KPackScale[32] = {0, 0, 0, 0, 2, 2, 2, 2, 0, 0, 0, 0, 2, 2, 2, 2,
                                                   1, 1, 1, 1, 3, 3, 3, 3, 1, 1, 1, 1, 3, 3, 3, 3};
alignas(64) constexpr int16_t kQ6KPackScale[32] = {0, 0, 0, 0, 4, 4, 4, 4, 1, 1, 1, 1, 5, 5, 5, 5,
                                                   2, 2, 2, 2, 6, 6, 6, 6, 3, 3, 3, 3, 7, 7, 7, 7};

// Σ sc·(q·a) over one block, in s32 lanes: q[c] holds weights 64c..64c+63 as u8, sc[0] / sc[1]
// the s16 scales laid out as pack(P0, P1) / pack(P2, P3) (tables above).
SMOL_AVX512 inline __m512i block_isum(const __m512i q[4], const __m512i sc[2], const uint8_t* aq) {
  const __m512i z = _mm512_setzero_si512();
  const __m512i p0 = _mm512_dpbusd_epi32(z, q[0], loadu512(aq));
  const __m512i p1 = _mm512_dpbusd_epi32(z, q[1], loadu512(aq + 64));
  const __m512i p2 = _mm512_dpbusd_epi32(z, q[2], loadu512(aq + 128));
  const __m512i p3 = _mm512_dpbusd_epi32(z, q[3], loadu512(aq + 192));
  const __m512i isum = _mm512_dpwssd_epi32(z, _mm512_packs_epi32(p0, p1), sc[0]);
  return _mm512_dpwssd_epi32(isum, _mm512_packs_epi32(p2, p3), sc[1]);
}

// Two tokens share the pack instead: pack(Pc(t0), Pc(t1)) holds chunk c of both, so in each
// 128-bit lane all 8 words belong to one sub-block / group (the scale tables below, plus 2c for
// Q4_K or 4c for Q6_K), and after vpdpwssd s32 lanes 0-1 of every 128-bit lane are token 0's,
// lanes 2-3 token 1's. One vpdpwssd chain, one conversion and one FMA then serve both tokens.
alignas(64) constexpr int16_t kQ4KPairScale[32] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                                   1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
constexpr __mmask16 kPairLanes0 = 0x3333, kPairLanes1 = 0xcccc;

SMOL_AVX512 inline __m512i pair_isum(const __m512i q[4], const __m512i scp[4], const uint8_t* aq0,
                                     const uint8_t* aq1) {
  const __m512i z = _mm512_setzero_si512();
  __m512i isum = z;
  for (int c = 0; c < 4; ++c) {
    const __m512i p0 = _mm512_dpbusd_epi32(z, q[c], loadu512(aq0 + 64 * c));
    const __m512i p1 = _mm512_dpbusd_epi32(z, q[c], loadu512(aq1 + 64 * c));
    isum = _mm512_dpwssd_epi32(isum, _mm512_packs_epi32(p0, p1), scp[c]);
  }
  return isum;
}

// Per token pair and block, made once per call (token_sums): da of each token in its lanes of
// the pair layout, and for Q4_K's mins the scaled bsums summed per 32-weight sub-block, token 0
// in lanes 0-7 and token 1 in lanes 8-15.
constexpr int64_t kPairFloats = 32;
struct PairActs {
  const float* da;  // 16 lanes: da_{t0} in kPairLanes0, da_{t1} in kPairLanes1
  const float* s8;  // 16 lanes: da·(bsum_2j + bsum_2j+1), j = 0..7, per token
};

// One Q4_K block decoded for the dot: 4 × 64 unsigned quants (element order), the packed-layout
// s16 scales, and the mins for the bsums term. The pair fields are filled when Pairs is set.
struct Q4KDecoded {
  __m512i q[4];
  __m512i sc[2];
  __m512 mins;     // lane l: dmin·m_{l/2}, against da·bsum_l
  __m512 d;        // d, broadcast
  __m512i scp[4];  // pair layout scales, chunk c
  __m512 mins8;    // lanes j and 8 + j: dmin·m_j, against PairActs::s8
};

template <bool Single = true, bool Pairs = false>
SMOL_AVX512 inline void decode_q4_K(const uint8_t* w, Q4KDecoded& out) {
  const __m512i low4 = _mm512_set1_epi8(0x0f);
  // Words 16..31 (bytes 32..63) take the high nibbles: shift them by 4.
  const __m512i shifts = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(4), 1);
  const Q4KScales s = unpack_q4_K_scales(w + q4k::kScales);
  const __m512i sc16 =
      _mm512_castsi128_si512(_mm_cvtepu8_epi16(_mm_cvtsi64_si128(static_cast<long long>(s.sc))));
  for (int c = 0; c < 4; ++c) {
    const __m512i raw = _mm512_broadcast_i64x4(loadu256(w + q4k::kQs + 32 * c));
    out.q[c] = _mm512_and_si512(_mm512_srlv_epi16(raw, shifts), low4);
  }
  const __m128i m8 = _mm_cvtsi64_si128(static_cast<long long>(s.m));
  const __m512 dmin = _mm512_set1_ps(f16c_load(w + q4k::kDmin));
  if constexpr (Single) {
    const __m512i idx = _mm512_load_si512(kQ4KPackScale);
    out.sc[0] = _mm512_permutexvar_epi16(idx, sc16);
    out.sc[1] = _mm512_permutexvar_epi16(_mm512_add_epi16(idx, _mm512_set1_epi16(4)), sc16);
    out.mins =
        _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_unpacklo_epi8(m8, m8))), dmin);
  }
  if constexpr (Pairs) {
    const __m512i idx = _mm512_load_si512(kQ4KPairScale);
    for (int c = 0; c < 4; ++c) {
      out.scp[c] = _mm512_permutexvar_epi16(_mm512_add_epi16(idx, _mm512_set1_epi16(2 * c)), sc16);
    }
    out.mins8 =
        _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_unpacklo_epi64(m8, m8))), dmin);
  }
  out.d = _mm512_set1_ps(f16c_load(w + q4k::kD));
}

// s[l] = da·bsum_l for the 16 groups of 16 activations of one Q8_K block.
SMOL_AVX512 inline void scaled_bsums(const uint8_t* a, float* s) {
  const __m512i b = _mm512_cvtepi16_epi32(loadu256(a + q8k::kBsums));
  _mm512_storeu_ps(s, _mm512_mul_ps(_mm512_cvtepi32_ps(b), _mm512_set1_ps(load_f32(a + q8k::kD))));
}

// One Q8_K block `a` whose scaled bsums are `s`, against a decoded block: acc += d·d_a·Σ sc·(q·a);
// acc_o += Σ_l offset_l·(d_a·bsum_l), the Q4_K mins or the Q6_K -32 offset.
SMOL_AVX512 inline void apply_block(const __m512i q[4], const __m512i sc[2], __m512 d,
                                    __m512 offset, const uint8_t* a, const float* s, __m512& acc,
                                    __m512& acc_o) {
  const __m512i isum = block_isum(q, sc, a + q8k::kQs);
  const __m512 dd = _mm512_mul_ps(d, _mm512_set1_ps(load_f32(a + q8k::kD)));
  acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), dd, acc);
  acc_o = _mm512_fmadd_ps(offset, _mm512_loadu_ps(s), acc_o);
}

// acc_m collects Σ_l dmin·m_{l/2}·(d_a·bsum_l).
SMOL_AVX512 inline void apply_q4_K(const Q4KDecoded& b, const uint8_t* a, const float* s,
                                   __m512& acc, __m512& acc_m) {
  apply_block(b.q, b.sc, b.d, b.mins, a, s, acc, acc_m);
}

// Tokens a0 and a1 together: acc (pair lanes) += d·d_a·Σ sc·(q·a); acc_m (lanes 0-7 token 0,
// 8-15 token 1) += dmin·m_j·(d_a·bsum pair j).
SMOL_AVX512 inline void apply_q4_K_pair(const Q4KDecoded& b, const uint8_t* a0, const uint8_t* a1,
                                        PairActs pa, __m512& acc, __m512& acc_m) {
  const __m512i isum = pair_isum(b.q, b.scp, a0 + q8k::kQs, a1 + q8k::kQs);
  const __m512 dd = _mm512_mul_ps(b.d, _mm512_loadu_ps(pa.da));
  acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), dd, acc);
  acc_m = _mm512_fmadd_ps(b.mins8, _mm512_loadu_ps(pa.s8), acc_m);
}

SMOL_AVX512 float dot_q4_K_avx512(int64_t n, const void* wv, const void* av) {
  const auto* w = static_cast<const uint8_t*>(wv);
  const auto* a = static_cast<const uint8_t*>(av);
  __m512 acc = _mm512_setzero_ps(), acc_m = _mm512_setzero_ps();
  Q4KDecoded b;
  alignas(64) float s[16];
  for (int64_t i = 0; i < n / kQK; ++i, w += q4k::kBytes, a += q8k::kBytes) {
    decode_q4_K(w, b);
    scaled_bsums(a, s);
    apply_q4_K(b, a, s, acc, acc_m);
  }
  return _mm512_reduce_add_ps(_mm512_sub_ps(acc, acc_m));
}

// ---- Q6_K ----------------------------------------------------------------------------------

struct Q6KDecoded {
  __m512i q[4];   // (half 0 low, half 0 high, half 1 low, half 1 high) nibbles: element order
  __m512i sc[2];  // s16 group scales in the packed layout (kQ6KPackScale)
  __m512 corr;    // lane g: 32·d·sc_g, against da·bsum_g (the -32 offset)
  __m512 d;       // d, broadcast
};

SMOL_AVX512 inline void decode_q6_K(const uint8_t* w, Q6KDecoded& out) {
  const __m512i low4 = _mm512_set1_epi8(0x0f);
  const __m512i hmask = _mm512_set1_epi8(0x30);
  // Low zmm of a half: elements 0..31 take qh bits 0-1 (<<4), 32..63 bits 2-3 (<<2).
  const __m512i shl = _mm512_inserti64x4(_mm512_set1_epi16(4), _mm256_set1_epi16(2), 1);
  // High zmm: elements 64..95 take bits 4-5 (as is), 96..127 bits 6-7 (>>2).
  const __m512i shr = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(2), 1);
  const __m128i sc8 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w + q6k::kScales));
  const __m512i sc_z = _mm512_castsi256_si512(_mm256_cvtepi8_epi16(sc8));
  for (int h = 0; h < 2; ++h) {
    const __m512i ql = loadu512(w + q6k::kQl + 64 * h);
    const __m512i qh = _mm512_broadcast_i64x4(loadu256(w + q6k::kQh + 32 * h));
    out.q[2 * h] = _mm512_or_si512(_mm512_and_si512(ql, low4),
                                   _mm512_and_si512(_mm512_sllv_epi16(qh, shl), hmask));
    out.q[2 * h + 1] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql, 4), low4),
                                       _mm512_and_si512(_mm512_srlv_epi16(qh, shr), hmask));
  }
  const __m512i idx = _mm512_load_si512(kQ6KPackScale);
  out.sc[0] = _mm512_permutexvar_epi16(idx, sc_z);
  out.sc[1] = _mm512_permutexvar_epi16(_mm512_add_epi16(idx, _mm512_set1_epi16(8)), sc_z);
  const float d = f16c_load(w + q6k::kD);
  out.corr =
      _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(sc8)), _mm512_set1_ps(32.0f * d));
  out.d = _mm512_set1_ps(d);
}

// (q6 - 32)·a summed = d·da·Σ sc·(q6·a) - Σ_g 32·d·sc_g·(da·bsum_g); `s` holds da·bsum_g.
SMOL_AVX512 inline void apply_q6_K(const Q6KDecoded& b, const uint8_t* a, const float* s,
                                   __m512& acc, __m512& acc_c) {
  apply_block(b.q, b.sc, b.d, b.corr, a, s, acc, acc_c);
}

SMOL_AVX512 float dot_q6_K_avx512(int64_t n, const void* wv, const void* av) {
  const auto* w = static_cast<const uint8_t*>(wv);
  const auto* a = static_cast<const uint8_t*>(av);
  __m512 acc = _mm512_setzero_ps(), acc_c = _mm512_setzero_ps();
  Q6KDecoded b;
  alignas(64) float s[16];
  for (int64_t i = 0; i < n / kQK; ++i, w += q6k::kBytes, a += q8k::kBytes) {
    decode_q6_K(w, b);
    scaled_bsums(a, s);
    apply_q6_K(b, a, s, acc, acc_c);
  }
  return _mm512_reduce_add_ps(_mm512_sub_ps(acc, acc_c));
}

// ---- Tiled gemm (prefill) and row loop (decode) ---------------------------------------------

// Decode streams the weights once. On a 16-core Xeon the hardware prefetcher alone left each core
// at ~6 GB/s (half of what one core can read); asking for the bytes 2 KiB ahead of every block
// took 4-thread decode from 12-15 to 16-20 tok/s (docs/performance.md, thread scaling), and costs
// nothing measurable on Zen 4. Rows are contiguous, so this runs on into the next row; a prefetch
// never faults, also past the end of the tensor.
constexpr int64_t kPrefetchAhead = 2048;
SMOL_AVX512 inline void prefetch_ahead(const uint8_t* block, int64_t bytes) {
  for (int64_t o = 0; o < bytes; o += 64) {
    _mm_prefetch(reinterpret_cast<const char*>(block + kPrefetchAhead + o), _MM_HINT_T0);
  }
}

// One weight row against T tokens, taken in pairs (and one single token when T is odd). s holds
// the tokens' scaled bsums, 16 floats per block and nb·16 per token; ps the pairs' PairActs,
// kPairFloats per block and nb·kPairFloats per pair.
SMOL_AVX512 inline PairActs pair_acts(const float* ps, int64_t nb, int p, int64_t i) {
  const float* base = ps + (p * nb + i) * kPairFloats;
  return {base, base + 16};
}

template <int T>
SMOL_AVX512 void q4_K_row_tile(const uint8_t* w, int64_t nb, const uint8_t* x, int64_t x_stride,
                               const float* s, const float* ps, float* y, int64_t y_stride) {
  constexpr int P = T / 2;
  constexpr bool kOdd = T % 2 == 1;
  __m512 acc[P + 1], acc_m[P + 1];  // pairs, then the odd token
  for (int j = 0; j <= P; ++j) acc[j] = acc_m[j] = _mm512_setzero_ps();
  Q4KDecoded b;
  for (int64_t i = 0; i < nb; ++i) {
    prefetch_ahead(w + i * q4k::kBytes, q4k::kBytes);
    decode_q4_K<kOdd, (P > 0)>(w + i * q4k::kBytes, b);
    for (int p = 0; p < P; ++p) {
      const uint8_t* a0 = x + 2 * p * x_stride + i * q8k::kBytes;
      apply_q4_K_pair(b, a0, a0 + x_stride, pair_acts(ps, nb, p, i), acc[p], acc_m[p]);
    }
    if constexpr (kOdd) {
      apply_q4_K(b, x + (T - 1) * x_stride + i * q8k::kBytes, s + ((T - 1) * nb + i) * 16, acc[P],
                 acc_m[P]);
    }
  }
  for (int p = 0; p < P; ++p) {
    y[2 * p * y_stride] = _mm512_mask_reduce_add_ps(kPairLanes0, acc[p]) -
                          _mm512_mask_reduce_add_ps(0x00ff, acc_m[p]);
    y[(2 * p + 1) * y_stride] = _mm512_mask_reduce_add_ps(kPairLanes1, acc[p]) -
                                _mm512_mask_reduce_add_ps(0xff00, acc_m[p]);
  }
  if constexpr (kOdd) {
    y[(T - 1) * y_stride] = _mm512_reduce_add_ps(_mm512_sub_ps(acc[P], acc_m[P]));
  }
}

// Q6_K takes its tokens one by one: pairing them saves one FMA of three per token (the -32
// offset keeps one per token) and costs two more scale permutes per block; measured, no gain.
template <int T>
SMOL_AVX512 void q6_K_row_tile(const uint8_t* w, int64_t nb, const uint8_t* x, int64_t x_stride,
                               const float* s, const float* /*ps*/, float* y, int64_t y_stride) {
  __m512 acc[T], acc_c[T];
  for (int j = 0; j < T; ++j) acc[j] = acc_c[j] = _mm512_setzero_ps();
  Q6KDecoded b;
  for (int64_t i = 0; i < nb; ++i) {
    prefetch_ahead(w + i * q6k::kBytes, q6k::kBytes);
    decode_q6_K(w + i * q6k::kBytes, b);
    for (int j = 0; j < T; ++j) {
      apply_q6_K(b, x + j * x_stride + i * q8k::kBytes, s + (j * nb + i) * 16, acc[j], acc_c[j]);
    }
  }
  for (int j = 0; j < T; ++j)
    y[j * y_stride] = _mm512_reduce_add_ps(_mm512_sub_ps(acc[j], acc_c[j]));
}

using RowTileFn = void (*)(const uint8_t*, int64_t, const uint8_t*, int64_t, const float*,
                           const float*, float*, int64_t);

// What the row tiles need of tokens [t0, t1) besides their quants, in grow-only per-thread
// buffers: every token's scaled bsums (block-major per token), and for every pair of tokens
// (t0 + 2p, t0 + 2p + 1) its PairActs (block-major per pair).
struct TokenSums {
  const float* s;
  const float* pairs;
};
template <bool kPairs>
SMOL_AVX512 TokenSums token_sums(const uint8_t* x, int64_t x_stride, int64_t nb, int64_t t0,
                                 int64_t t1) {
  thread_local std::vector<float> buf, pair_buf;
  const size_t need = static_cast<size_t>((t1 - t0) * nb * 16);
  if (buf.size() < need) buf.resize(need);
  for (int64_t t = t0; t < t1; ++t) {
    for (int64_t i = 0; i < nb; ++i) {
      scaled_bsums(x + t * x_stride + i * q8k::kBytes, buf.data() + ((t - t0) * nb + i) * 16);
    }
  }
  if constexpr (!kPairs) return {buf.data(), nullptr};
  const int64_t n_pairs = (t1 - t0) / 2;
  const size_t pair_need = static_cast<size_t>(n_pairs * nb * kPairFloats);
  if (pair_buf.size() < pair_need) pair_buf.resize(pair_need);
  // s8: lane j of token 0 (lanes 0-7) / token 1 (8-15) = s_2j + s_2j+1 of that token.
  const __m512i evens = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
  const __m512i odds = _mm512_add_epi32(evens, _mm512_set1_epi32(1));
  for (int64_t p = 0; p < n_pairs; ++p) {
    const int64_t ta = 2 * p, tb = 2 * p + 1;  // relative to t0
    for (int64_t i = 0; i < nb; ++i) {
      float* out = pair_buf.data() + (p * nb + i) * kPairFloats;
      const float da0 = load_f32(x + (t0 + ta) * x_stride + i * q8k::kBytes + q8k::kD);
      const float da1 = load_f32(x + (t0 + tb) * x_stride + i * q8k::kBytes + q8k::kD);
      _mm512_storeu_ps(out,
                       _mm512_mask_blend_ps(kPairLanes1, _mm512_set1_ps(da0), _mm512_set1_ps(da1)));
      // Lanes 0-15 of (s_a, s_b) concatenated are s_a; 16-31 are s_b.
      const __m512 sa = _mm512_loadu_ps(buf.data() + (ta * nb + i) * 16);
      const __m512 sb = _mm512_loadu_ps(buf.data() + (tb * nb + i) * 16);
      _mm512_storeu_ps(out + 16, _mm512_add_ps(_mm512_permutex2var_ps(sa, evens, sb),
                                               _mm512_permutex2var_ps(sa, odds, sb)));
    }
  }
  return {buf.data(), pair_buf.data()};
}

template <bool kPairs, RowTileFn Tile4, RowTileFn Tile3, RowTileFn Tile2, RowTileFn Tile1>
SMOL_AVX512 void gemm_tiled(const uint8_t* w, int64_t w_stride, const uint8_t* x, int64_t x_stride,
                            int64_t n, float* y, int64_t y_stride, int64_t r0, int64_t r1,
                            int64_t t0, int64_t t1) {
  const int64_t nb = n / kQK;
  for (int64_t tb = t0; tb < t1; tb += kTokenBlock) {
    const int64_t te = tb + kTokenBlock < t1 ? tb + kTokenBlock : t1;
    const TokenSums sums = token_sums<kPairs>(x, x_stride, nb, tb, te);
    auto pairs_at = [&](int64_t t) -> const float* {
      if constexpr (kPairs) return sums.pairs + (t - tb) / 2 * nb * kPairFloats;
      return nullptr;  // (no arithmetic on a null pointer)
    };
    for (int64_t r = r0; r < r1; ++r) {
      const uint8_t* row = w + r * w_stride;
      int64_t t = tb;
      // t - tb stays even, so tiles start on a pair.
      for (; t + kTile <= te; t += kTile) {
        Tile4(row, nb, x + t * x_stride, x_stride, sums.s + (t - tb) * nb * 16, pairs_at(t),
              y + t * y_stride + r, y_stride);
      }
      const uint8_t* xt = x + t * x_stride;
      const float* st = sums.s + (t - tb) * nb * 16;
      const float* pt = pairs_at(t);
      float* yt = y + t * y_stride + r;
      switch (te - t) {
        case 3:
          Tile3(row, nb, xt, x_stride, st, pt, yt, y_stride);
          break;
        case 2:
          Tile2(row, nb, xt, x_stride, st, pt, yt, y_stride);
          break;
        case 1:
          Tile1(row, nb, xt, x_stride, st, pt, yt, y_stride);
          break;
        default:
          break;
      }
    }
  }
}

// Row kernels for decode and for the tail rows of prefill.
constexpr GemmFn kQ4KRows =
    gemm_tiled<true, q4_K_row_tile<4>, q4_K_row_tile<3>, q4_K_row_tile<2>, q4_K_row_tile<1>>;
constexpr GemmFn kQ6KRows =
    gemm_tiled<false, q6_K_row_tile<4>, q6_K_row_tile<3>, q6_K_row_tile<2>, q6_K_row_tile<1>>;

// From 8 tokens on, the 16-row interleaved VNNI kernel (gemm_avx512.cpp) takes the whole 16-row
// tiles of the range; the row kernel takes decode and the tail rows. Below 8 tokens the tile's
// transpose costs more than its cheaper per-token work saves (one thread, 2048x2048 Q4_K on the
// Zen 4: 4 tokens 0.31 ms by rows against 0.38 interleaved; 8 tokens about equal; 12 tokens
// 0.62 interleaved against 0.61-0.87 by rows).
template <GemmFn Interleaved, GemmFn Rows>
SMOL_AVX512 void gemm_split(const uint8_t* w, int64_t w_stride, const uint8_t* x, int64_t x_stride,
                            int64_t n, float* y, int64_t y_stride, int64_t r0, int64_t r1,
                            int64_t t0, int64_t t1) {
  int64_t r = r0;
  if (t1 - t0 >= 8) {
    r = r0 + (r1 - r0) / kInterleaveRows * kInterleaveRows;
    Interleaved(w, w_stride, x, x_stride, n, y, y_stride, r0, r, t0, t1);
  }
  if (r < r1) Rows(w, w_stride, x, x_stride, n, y, y_stride, r, r1, t0, t1);
}

// ---- Q8_0, f16, f32 ------------------------------------------------------------------------

SMOL_AVX512 float dot_q8_0_avx512(int64_t n, const void* wv, const void* av) {
  const auto* w = static_cast<const uint8_t*>(wv);
  const auto* a = static_cast<const uint8_t*>(av);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / kQK8_0; ++i, w += q80::kBytes, a += q80::kBytes) {
    const __m256i qw = loadu256(w + q80::kQs), qa = loadu256(a + q80::kQs);
    // vpdpbusd needs u8 × s8: |w| × sign(a, w); 4-way s32 sums cannot saturate.
    const __m256i s =
        _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_abs_epi8(qw), _mm256_sign_epi8(qa, qw));
    const float d = f16c_load(w + q80::kD) * f16c_load(a + q80::kD);
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_set1_ps(d), acc);
  }
  __m128 m = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
  return hsum128(m);
}

SMOL_AVX512 float dot_f16_avx512(int64_t n, const uint16_t* w, const float* x) {
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m512 w0 = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + i)));
    const __m512 w1 =
        _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + i + 16)));
    acc0 = _mm512_fmadd_ps(w0, _mm512_loadu_ps(x + i), acc0);
    acc1 = _mm512_fmadd_ps(w1, _mm512_loadu_ps(x + i + 16), acc1);
  }
  float sum = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
  for (; i < n; ++i) {
    uint16_t h;
    std::memcpy(&h, w + i, 2);
    sum += fp16_to_fp32(h) * x[i];
  }
  return sum;
}

SMOL_AVX512 float dot_f32_avx512(int64_t n, const float* w, const float* x) {
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(w + i), _mm512_loadu_ps(x + i), acc0);
    acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(w + i + 16), _mm512_loadu_ps(x + i + 16), acc1);
  }
  float sum = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
  for (; i < n; ++i) sum += w[i] * x[i];
  return sum;
}

// Bit-identical to quantize_row_q8_K_ref (see the AVX2 twin).
SMOL_AVX512 void quantize_q8_K_avx512(const float* x, void* y, int64_t n) {
  auto* b = static_cast<uint8_t*>(y);
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK, b += q8k::kBytes) {
    __m512 vmax = _mm512_setzero_ps();
    for (int e = 0; e < kQK; e += 16)
      vmax = _mm512_max_ps(vmax, _mm512_abs_ps(_mm512_loadu_ps(x + e)));
    const float amax = _mm512_reduce_max_ps(vmax);
    if (!(amax > 0.0f)) {
      std::memset(b, 0, q8k::kBytes);
      continue;
    }
    float max = 0.0f;
    for (int e = 0; e < kQK; ++e) {
      if (std::fabs(x[e]) == amax) {
        max = x[e];
        break;
      }
    }
    const float iscale = -127.0f / max;
    const __m512 vs = _mm512_set1_ps(iscale);
    const __m512i top = _mm512_set1_epi32(127);
    for (int g = 0; g < 16; ++g) {
      const __m512i q =
          _mm512_min_epi32(_mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(x + 16 * g), vs)), top);
      const int16_t sum = static_cast<int16_t>(_mm512_reduce_add_epi32(q));
      std::memcpy(b + q8k::kBsums + 2 * g, &sum, 2);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(b + q8k::kQs + 16 * g), _mm512_cvtepi32_epi8(q));
    }
    const float d = 1.0f / iscale;
    std::memcpy(b + q8k::kD, &d, 4);
  }
}

float dot_f16_bytes(int64_t n, const void* w, const void* x) {
  return dot_f16_avx512(n, static_cast<const uint16_t*>(w), static_cast<const float*>(x));
}
float dot_f32_bytes(int64_t n, const void* w, const void* x) {
  return dot_f32_avx512(n, static_cast<const float*>(w), static_cast<const float*>(x));
}

template <float (*Dot)(int64_t, const void*, const void*)>
void gemm_rows(const uint8_t* w, int64_t w_stride, const uint8_t* x, int64_t x_stride, int64_t n,
               float* y, int64_t y_stride, int64_t r0, int64_t r1, int64_t t0, int64_t t1) {
  gemm_by_rows(Dot, w, w_stride, x, x_stride, n, y, y_stride, r0, r1, t0, t1);
}

}  // namespace

const KernelTable& avx512_kernels() {
  static const KernelTable table = {
      Isa::kAvx512,
      quantize_q8_K_avx512,
      dot_q4_K_avx512,
      dot_q6_K_avx512,
      dot_q8_0_avx512,
      dot_f16_avx512,
      dot_f32_avx512,
      gemm_split<gemm_q4_K_interleaved_avx512, kQ4KRows>,
      gemm_split<gemm_q6_K_interleaved_avx512, kQ6KRows>,
      gemm_rows<dot_q8_0_avx512>,
      gemm_rows<dot_f16_bytes>,
      gemm_rows<dot_f32_bytes>,
  };
  return table;
}

}  // namespace smol::kernels::detail
