// AVX2 tier (AVX2 + FMA + F16C). Every function carries the target attribute; nothing here is
// inline in a header, so no generic code is ever compiled for AVX2 (no ODR hazard).
//
// K-quant dots follow the classic recipe: maddubs (u8 weights × s8 activations -> s16 pairs,
// never saturating: 2·63·127 < 32767), madd with the 16-bit sub-block scales (-> s32), one float
// FMA per super-block (two for Q4_K: the mins). Without VNNI the vector pipes are the limit on a
// Zen 3 (decode's matvec runs at about the DRAM's read speed), so what counts is instructions
// per block: Q4_K reads its activations in a lane layout that lets one madd serve two
// sub-blocks (q4lane), and every scale vector is shuffled from one register.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "block_io.h"
#include "kernel_table.h"
#include "prefetch.h"

#define SMOL_AVX2 __attribute__((target("avx2,fma,f16c")))

namespace smol::kernels::detail {

namespace {

// fp16 -> f32 with F16C (exact, like fp16_to_fp32, but one instruction instead of a branchy
// bit-twiddle in every block).
SMOL_AVX2 inline float f16c_load(const uint8_t* p) { return _cvtsh_ss(load_u16(p)); }

SMOL_AVX2 inline float hsum_ps(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

SMOL_AVX2 inline int hsum_epi32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
  return _mm_cvtsi128_si32(s);
}

SMOL_AVX2 inline __m256i loadu256(const uint8_t* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}

SMOL_AVX2 inline __m128i loadu128(const uint8_t* p) {
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
}

// vpshufb patterns over s16 words (in-lane, so the words sit in both 128-bit lanes): word 2q to
// all of lane 0, word 2q+1 to all of lane 1. They spread Q6_K's group scales (one per 16 weights, a
// lane each) and, in the Q4_K lane layout, sub-block 2q's scale beside 2q+1's. Setting each scale
// from a general register cost a transfer and a shuffle apiece (16 per Q6_K block); these shuffle
// one vector holding all.
struct WordPattern {
  alignas(32) uint8_t b[32];
};
constexpr WordPattern word_pattern(int lane0_word, int lane1_word) {
  WordPattern w{};
  for (int i = 0; i < 32; ++i) {
    w.b[i] = static_cast<uint8_t>(2 * (i < 16 ? lane0_word : lane1_word) + (i & 1));
  }
  return w;
}
constexpr WordPattern kWordPairs[4] = {word_pattern(0, 1), word_pattern(2, 3), word_pattern(4, 5),
                                       word_pattern(6, 7)};
SMOL_AVX2 inline __m256i shuffle_words(__m256i v, const WordPattern& p) {
  return _mm256_shuffle_epi8(v, _mm256_load_si256(reinterpret_cast<const __m256i*>(p.b)));
}

// The activations' Q4_K sub-block sums, bsums[2s] + bsums[2s+1] as s16 (|sum| <= 32·127), for the
// min term.
SMOL_AVX2 inline __m128i q8_K_sub_sums(const uint8_t* a) {
  return _mm_hadd_epi16(loadu128(a + q8k::kBsums), loadu128(a + q8k::kBsums + 16));
}

// Min term of one Q4_K block: Σ_s m_s·(sub-block sum s) as 4 int32 partial sums.
SMOL_AVX2 inline __m128i q4_K_min_terms(uint64_t mins, __m128i sub_sums) {
  return _mm_madd_epi16(_mm_cvtepu8_epi16(_mm_cvtsi64_si128(static_cast<long long>(mins))),
                        sub_sums);
}

// The Q4_K kernels' activations, laid out once per matvec / matmul call (KernelTable::q4_K_acts)
// so that one vpmaddwd serves two sub-blocks:
// chunk c (weights 64c..64c+63: sub-blocks 2c and 2c+1) as A_c = [a(2c, 0..15) | a(2c+1, 0..15)]
// and B_c = [a(2c, 16..31) | a(2c+1, 16..31)] (a(j, k): activation k of sub-block j), then the
// 8 sub-block sums, then d_a.
namespace q4lane {
constexpr int64_t kQs = 0, kSubSums = 256, kD = 272, kBytes = 288;
}  // namespace q4lane

SMOL_AVX2 inline void to_q4_K_lanes(const uint8_t* a, uint8_t* out) {
  for (int c = 0; c < 4; ++c) {
    const uint8_t* q = a + q8k::kQs + 64 * c;
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 64 * c),
                        _mm256_setr_m128i(loadu128(q), loadu128(q + 32)));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 64 * c + 32),
                        _mm256_setr_m128i(loadu128(q + 16), loadu128(q + 48)));
  }
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out + q4lane::kSubSums), q8_K_sub_sums(a));
  std::memcpy(out + q4lane::kD, a + q8k::kD, 4);
}

// q4_K_block over the lane layout: 16 quant bytes broadcast to both lanes, shifted by 0 (lane 0)
// and 4 (lane 1), give sub-block 2c's weights beside 2c+1's; the two halves of the chunk then
// share one scale vector, so their vpmaddubsw results add in s16 (|sum| <= 4·15·127) before a
// single vpmaddwd (three multiplies per 64 weights where the classic recipe takes four, and one
// scale shuffle instead of two).
SMOL_AVX2 inline void q4_K_block_lanes(const uint8_t* wb, const uint8_t* a, __m256& acc,
                                       __m128& acc_m) {
  const __m256i low4 = _mm256_set1_epi8(0x0f);
  const __m256i shifts = _mm256_setr_epi32(0, 0, 0, 0, 4, 4, 4, 4);
  const Q4KScales s = unpack_q4_K_scales(wb + q4k::kScales);
  const __m256i sc = _mm256_broadcastsi128_si256(
      _mm_cvtepu8_epi16(_mm_cvtsi64_si128(static_cast<long long>(s.sc))));
  __m256i isum0 = _mm256_setzero_si256(), isum1 = _mm256_setzero_si256();
  for (int c = 0; c < 4; ++c) {
    const __m256i qa = _mm256_broadcastsi128_si256(loadu128(wb + q4k::kQs + 32 * c));
    const __m256i qb = _mm256_broadcastsi128_si256(loadu128(wb + q4k::kQs + 32 * c + 16));
    const __m256i wa = _mm256_and_si256(_mm256_srlv_epi32(qa, shifts), low4);
    const __m256i wbv = _mm256_and_si256(_mm256_srlv_epi32(qb, shifts), low4);
    const __m256i p = _mm256_add_epi16(_mm256_maddubs_epi16(wa, loadu256(a + 64 * c)),
                                       _mm256_maddubs_epi16(wbv, loadu256(a + 64 * c + 32)));
    const __m256i m = _mm256_madd_epi16(p, shuffle_words(sc, kWordPairs[c]));
    if (c % 2 == 0) {
      isum0 = _mm256_add_epi32(isum0, m);
    } else {
      isum1 = _mm256_add_epi32(isum1, m);
    }
  }
  const __m128 dd =
      _mm_mul_ps(_mm_cvtph_ps(_mm_cvtsi32_si128(static_cast<int>(load_u32(wb + q4k::kD)))),
                 _mm_set1_ps(load_f32(a + q4lane::kD)));
  acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(isum0, isum1)),
                        _mm256_broadcastss_ps(dd), acc);
  acc_m = _mm_fmadd_ps(
      _mm_cvtepi32_ps(q4_K_min_terms(
          s.m, _mm_loadu_si128(reinterpret_cast<const __m128i*>(a + q4lane::kSubSums)))),
      _mm_permute_ps(dd, 0x55), acc_m);
}

SMOL_AVX2 inline float q4_K_result(__m256 acc, __m128 acc_m) {
  __m128 m = _mm_add_ps(acc_m, _mm_movehl_ps(acc_m, acc_m));
  m = _mm_add_ss(m, _mm_movehdup_ps(m));
  return hsum_ps(acc) - _mm_cvtss_f32(m);
}

SMOL_AVX2 float dot_q4_K_avx2(int64_t n, const void* wv, const void* av) {
  const auto* w = static_cast<const uint8_t*>(wv);
  const auto* a = static_cast<const uint8_t*>(av);
  __m256 acc = _mm256_setzero_ps();
  __m128 acc_m = _mm_setzero_ps();
  // The decode kernel's steps exactly (bit-identical), the lane layout made block by block.
  alignas(32) uint8_t lanes[q4lane::kBytes];
  for (int64_t i = 0; i < n / kQK; ++i, w += q4k::kBytes, a += q8k::kBytes) {
    to_q4_K_lanes(a, lanes);
    q4_K_block_lanes(w, lanes, acc, acc_m);
  }
  return q4_K_result(acc, acc_m);
}

// The two high bits of Q6_K quarter `quarter` (0..3) moved to bits 4-5 of every byte.
SMOL_AVX2 inline __m256i q6_K_high(__m256i qh, int quarter) {
  const __m256i mask = _mm256_set1_epi8(0x30);
  switch (quarter) {
    case 0:
      return _mm256_and_si256(_mm256_slli_epi16(qh, 4), mask);
    case 1:
      return _mm256_and_si256(_mm256_slli_epi16(qh, 2), mask);
    case 2:
      return _mm256_and_si256(qh, mask);
    default:
      return _mm256_and_si256(_mm256_srli_epi16(qh, 2), mask);
  }
}

// Q6_K scales as s16 words: sc16 holds groups 0-7 in lane 0 and 8-15 in lane 1; half h's
// eight, in both lanes.
SMOL_AVX2 inline __m256i q6_K_half_scales(__m256i sc16, int h) {
  return h == 0 ? _mm256_permute4x64_epi64(sc16, 0x44) : _mm256_permute4x64_epi64(sc16, 0xee);
}

// One Q6_K block against one Q8_K block: acc += d·d_a·Σ sc·((q6 - 32)·a).
SMOL_AVX2 inline void q6_K_block(const uint8_t* wb, const uint8_t* a, __m256& acc) {
  const __m256i low4 = _mm256_set1_epi8(0x0f);
  const __m256i sc16 = _mm256_cvtepi8_epi16(loadu128(wb + q6k::kScales));
  // (q6 - 32)·a = q6·a - 32·a: subtract 32·Σ_g sc_g·bsums_g once per block.
  __m256i isum0 =
      _mm256_sub_epi32(_mm256_setzero_si256(),
                       _mm256_slli_epi32(_mm256_madd_epi16(loadu256(a + q8k::kBsums), sc16), 5));
  __m256i isum1 = _mm256_setzero_si256();
  for (int h = 0; h < 2; ++h) {
    const __m256i sch = q6_K_half_scales(sc16, h);
    const __m256i qh = loadu256(wb + q6k::kQh + 32 * h);
    const uint8_t* q8 = a + q8k::kQs + 128 * h;
    for (int k = 0; k < 2; ++k) {
      __m256i ql = loadu256(wb + q6k::kQl + 64 * h + 32 * k);
      asm("" : "+x"(ql));  // one load: GCC would fold it into both the AND and the shift
      // quarter k: low nibbles (groups 2k, 2k+1 of the half); quarter 2+k: high nibbles.
      const __m256i va = _mm256_or_si256(_mm256_and_si256(ql, low4), q6_K_high(qh, k));
      const __m256i vb =
          _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql, 4), low4), q6_K_high(qh, 2 + k));
      const __m256i pa = _mm256_maddubs_epi16(va, loadu256(q8 + 32 * k));
      const __m256i pb = _mm256_maddubs_epi16(vb, loadu256(q8 + 32 * (2 + k)));
      isum0 = _mm256_add_epi32(isum0, _mm256_madd_epi16(pa, shuffle_words(sch, kWordPairs[k])));
      isum1 = _mm256_add_epi32(isum1, _mm256_madd_epi16(pb, shuffle_words(sch, kWordPairs[2 + k])));
    }
  }
  const float d = f16c_load(wb + q6k::kD) * load_f32(a + q8k::kD);
  acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(isum0, isum1)), _mm256_set1_ps(d), acc);
}

SMOL_AVX2 float dot_q6_K_avx2(int64_t n, const void* wv, const void* av) {
  const auto* w = static_cast<const uint8_t*>(wv);
  const auto* a = static_cast<const uint8_t*>(av);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / kQK; ++i, w += q6k::kBytes, a += q8k::kBytes) q6_K_block(w, a, acc);
  return hsum_ps(acc);
}

// x: one token's activations in the lane layout (q4_K_lane_acts).
SMOL_AVX2 void q4_K_rows_one_token(const uint8_t* w, int64_t w_stride, const uint8_t* x, int64_t n,
                                   float* y, int64_t r0, int64_t r1) {
  const int64_t nb = n / kQK;
  for (int64_t r = r0; r < r1; ++r) {
    const uint8_t* row = w + r * w_stride;
    __m256 acc = _mm256_setzero_ps();
    __m128 acc_m = _mm_setzero_ps();
    for (int64_t i = 0; i < nb; ++i) {
      prefetch_ahead(row + i * q4k::kBytes, q4k::kBytes);
      q4_K_block_lanes(row + i * q4k::kBytes, x + i * q4lane::kBytes, acc, acc_m);
    }
    y[r] = q4_K_result(acc, acc_m);
  }
}

SMOL_AVX2 void q6_K_rows_one_token(const uint8_t* w, int64_t w_stride, const uint8_t* x, int64_t n,
                                   float* y, int64_t r0, int64_t r1) {
  for (int64_t r = r0; r < r1; ++r) {
    const uint8_t* row = w + r * w_stride;
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / kQK; ++i) {
      prefetch_ahead(row + i * q6k::kBytes, q6k::kBytes);
      q6_K_block(row + i * q6k::kBytes, x + i * q8k::kBytes, acc);
    }
    y[r] = hsum_ps(acc);
  }
}

SMOL_AVX2 float dot_q8_0_avx2(int64_t n, const void* wv, const void* av) {
  const auto* w = static_cast<const uint8_t*>(wv);
  const auto* a = static_cast<const uint8_t*>(av);
  const __m256i ones = _mm256_set1_epi16(1);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / kQK8_0; ++i, w += q80::kBytes, a += q80::kBytes) {
    const __m256i qw = loadu256(w + q80::kQs), qa = loadu256(a + q80::kQs);
    // |w|·sign(a, w) = w·a with an unsigned first operand, as maddubs needs.
    const __m256i p = _mm256_maddubs_epi16(_mm256_abs_epi8(qw), _mm256_sign_epi8(qa, qw));
    const __m256 s = _mm256_cvtepi32_ps(_mm256_madd_epi16(p, ones));
    const float d = f16c_load(w + q80::kD) * f16c_load(a + q80::kD);
    acc = _mm256_fmadd_ps(s, _mm256_set1_ps(d), acc);
  }
  return hsum_ps(acc);
}

SMOL_AVX2 float dot_f16_avx2(int64_t n, const uint16_t* w, const float* x) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256 w0 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + i)));
    const __m256 w1 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + i + 8)));
    acc0 = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x + i), acc0);
    acc1 = _mm256_fmadd_ps(w1, _mm256_loadu_ps(x + i + 8), acc1);
  }
  float sum = hsum_ps(_mm256_add_ps(acc0, acc1));
  for (; i < n; ++i) {
    uint16_t h;
    std::memcpy(&h, w + i, 2);
    sum += fp16_to_fp32(h) * x[i];
  }
  return sum;
}

SMOL_AVX2 float dot_f32_avx2(int64_t n, const float* w, const float* x) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i), _mm256_loadu_ps(x + i), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i + 8), _mm256_loadu_ps(x + i + 8), acc1);
  }
  float sum = hsum_ps(_mm256_add_ps(acc0, acc1));
  for (; i < n; ++i) sum += w[i] * x[i];
  return sum;
}

// Bit-identical to quantize_row_q8_K_ref: same max (first largest |x| wins), same iscale, and
// cvtps rounds half to even like nearbyint.
SMOL_AVX2 void quantize_q8_K_avx2(const float* x, void* y, int64_t n) {
  auto* b = static_cast<uint8_t*>(y);
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK, b += q8k::kBytes) {
    __m256 vmax = _mm256_setzero_ps();
    for (int e = 0; e < kQK; e += 8) {
      vmax = _mm256_max_ps(vmax, _mm256_and_ps(_mm256_loadu_ps(x + e), abs_mask));
    }
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(vmax), _mm256_extractf128_ps(vmax, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    const float amax = _mm_cvtss_f32(m);
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
    const __m256 vs = _mm256_set1_ps(iscale);
    const __m256i top = _mm256_set1_epi32(127);
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    for (int e = 0; e < kQK; e += 32) {
      __m256i q[4];
      for (int k = 0; k < 4; ++k) {
        q[k] = _mm256_min_epi32(
            _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + e + 8 * k), vs)), top);
      }
      // bsums over the two groups of 16 in these 32 values.
      for (int g = 0; g < 2; ++g) {
        const int16_t sum =
            static_cast<int16_t>(hsum_epi32(_mm256_add_epi32(q[2 * g], q[2 * g + 1])));
        std::memcpy(b + q8k::kBsums + 2 * ((e / 16) + g), &sum, 2);
      }
      const __m256i p16 =
          _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]), _mm256_packs_epi32(q[2], q[3]));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(b + q8k::kQs + e),
                          _mm256_permutevar8x32_epi32(p16, order));
    }
    const float d = 1.0f / iscale;
    std::memcpy(b + q8k::kD, &d, 4);
  }
}

// ---- Multi-token row tiles (batched decode and prefill) -------------------------------------
//
// The dot kernels re-decode every weight block for every token, and a token-by-token loop reads
// each weight row once per token. The tiles decode each 32-weight chunk of a block once, with
// its scale, and apply it to T tokens before the next chunk (chunk, scale and T sums stay in
// registers: 2 of 3 loads per maddubs go away). The driver sweeps groups of rows against tiles
// of tokens (gemm_tiled_avx2). Per token the integer sums are the dot kernels'; Q4_K adds its
// mins into the same float accumulator.
constexpr int kTileTokens = 4;
constexpr int64_t kTokenBlock = 64;
constexpr int64_t kRowGroup = 16;

// isum[t] += sc·(q·a_t) for one chunk of 32 quants whose activations sit at x + 32·chunk
// (token t at x + t·x_stride).
template <int T>
SMOL_AVX2 inline void chunk_isums(__m256i q, __m256i sc, const uint8_t* x, int64_t x_stride,
                                  __m256i isum[T]) {
  for (int t = 0; t < T; ++t) {
    const __m256i p = _mm256_maddubs_epi16(q, loadu256(x + t * x_stride));
    isum[t] = _mm256_add_epi32(isum[t], _mm256_madd_epi16(p, sc));
    // Keeps the running sum: GCC otherwise re-associates the T·8 products of a block into a
    // tree, which needs more than AVX2's 16 ymm registers and spills every product.
    asm("" : "+x"(isum[t]));
  }
}

// Tokens in the lane layout (q4lane, made once per call by q4_K_lane_acts): per chunk the
// weights are decoded once (two shifts, two ANDs, one scale shuffle) and each token takes two
// vpmaddubsw, one s16 add and one vpmaddwd, as q4_K_block_lanes does.
template <int T>
SMOL_AVX2 void q4_K_tile_avx2(const uint8_t* w, int64_t nb, const uint8_t* x, int64_t x_stride,
                              float* y, int64_t y_stride) {
  const __m256i low4 = _mm256_set1_epi8(0x0f);
  const __m256i shifts = _mm256_setr_epi32(0, 0, 0, 0, 4, 4, 4, 4);
  // AVX2 has 16 ymm registers: T sums, T accumulators and the chunk in flight. The min term goes
  // into the same accumulator (lanes 0-3), so nothing spills.
  __m256 acc[T];
  for (int t = 0; t < T; ++t) acc[t] = _mm256_setzero_ps();
  for (int64_t i = 0; i < nb; ++i) {
    const uint8_t* wb = w + i * q4k::kBytes;
    const uint8_t* a = x + i * q4lane::kBytes;
    const Q4KScales s = unpack_q4_K_scales(wb + q4k::kScales);
    const __m256i sc_words = _mm256_broadcastsi128_si256(
        _mm_cvtepu8_epi16(_mm_cvtsi64_si128(static_cast<long long>(s.sc))));
    __m256i isum[T];
    for (int t = 0; t < T; ++t) isum[t] = _mm256_setzero_si256();
    for (int c = 0; c < 4; ++c) {
      const __m256i qa = _mm256_broadcastsi128_si256(loadu128(wb + q4k::kQs + 32 * c));
      const __m256i qb = _mm256_broadcastsi128_si256(loadu128(wb + q4k::kQs + 32 * c + 16));
      const __m256i wa = _mm256_and_si256(_mm256_srlv_epi32(qa, shifts), low4);
      const __m256i wbv = _mm256_and_si256(_mm256_srlv_epi32(qb, shifts), low4);
      const __m256i sc = shuffle_words(sc_words, kWordPairs[c]);
      for (int t = 0; t < T; ++t) {
        const uint8_t* at = a + t * x_stride + 64 * c;
        const __m256i p = _mm256_add_epi16(_mm256_maddubs_epi16(wa, loadu256(at)),
                                           _mm256_maddubs_epi16(wbv, loadu256(at + 32)));
        isum[t] = _mm256_add_epi32(isum[t], _mm256_madd_epi16(p, sc));
        // Keeps the running sum: GCC otherwise re-associates the products of a block into a
        // tree, which needs more than AVX2's 16 ymm registers and spills.
        asm("" : "+x"(isum[t]));
      }
    }
    const float d = f16c_load(wb + q4k::kD), dmin = f16c_load(wb + q4k::kDmin);
    for (int t = 0; t < T; ++t) {
      const uint8_t* at = a + t * x_stride;
      const float da = load_f32(at + q4lane::kD);
      acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[t]), _mm256_set1_ps(d * da), acc[t]);
      const __m256 mins = _mm256_zextps128_ps256(_mm_cvtepi32_ps(q4_K_min_terms(
          s.m, _mm_loadu_si128(reinterpret_cast<const __m128i*>(at + q4lane::kSubSums)))));
      acc[t] = _mm256_fnmadd_ps(mins, _mm256_set1_ps(dmin * da), acc[t]);
    }
  }
  for (int t = 0; t < T; ++t) y[t * y_stride] = hsum_ps(acc[t]);
}

template <int T>
SMOL_AVX2 void q6_K_tile_avx2(const uint8_t* w, int64_t nb, const uint8_t* x, int64_t x_stride,
                              float* y, int64_t y_stride) {
  const __m256i low4 = _mm256_set1_epi8(0x0f);
  __m256 acc[T];
  for (int t = 0; t < T; ++t) acc[t] = _mm256_setzero_ps();
  for (int64_t i = 0; i < nb; ++i) {
    const uint8_t* wb = w + i * q6k::kBytes;
    const uint8_t* a = x + i * q8k::kBytes;
    const __m256i sc16 = _mm256_cvtepi8_epi16(loadu128(wb + q6k::kScales));
    // (q6 - 32)·a: the -32 as 32·Σ_g sc_g·bsums_g, subtracted in s32.
    __m256i isum[T];
    for (int t = 0; t < T; ++t) {
      isum[t] = _mm256_sub_epi32(
          _mm256_setzero_si256(),
          _mm256_slli_epi32(_mm256_madd_epi16(loadu256(a + t * x_stride + q8k::kBsums), sc16), 5));
    }
    for (int h = 0; h < 2; ++h) {
      const __m256i sch = q6_K_half_scales(sc16, h);
      const __m256i qh = loadu256(wb + q6k::kQh + 32 * h);
      const uint8_t* q8 = a + q8k::kQs + 128 * h;
      for (int k = 0; k < 2; ++k) {
        const __m256i ql = loadu256(wb + q6k::kQl + 64 * h + 32 * k);
        // quarter k: low nibbles; quarter 2+k: high nibbles.
        chunk_isums<T>(_mm256_or_si256(_mm256_and_si256(ql, low4), q6_K_high(qh, k)),
                       shuffle_words(sch, kWordPairs[k]), q8 + 32 * k, x_stride, isum);
        chunk_isums<T>(
            _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql, 4), low4), q6_K_high(qh, 2 + k)),
            shuffle_words(sch, kWordPairs[2 + k]), q8 + 32 * (2 + k), x_stride, isum);
      }
    }
    const float d = f16c_load(wb + q6k::kD);
    for (int t = 0; t < T; ++t) {
      acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[t]),
                               _mm256_set1_ps(d * load_f32(a + t * x_stride + q8k::kD)), acc[t]);
    }
  }
  for (int t = 0; t < T; ++t) y[t * y_stride] = hsum_ps(acc[t]);
}

using TileFn = void (*)(const uint8_t*, int64_t, const uint8_t*, int64_t, float*, int64_t);

// KernelTable::q4_K_acts: Q8_K blocks to the lane layout the Q4_K kernels read.
SMOL_AVX2 void q4_K_lane_acts(const uint8_t* q8_K, uint8_t* out, int64_t n_blocks) {
  for (int64_t i = 0; i < n_blocks; ++i) {
    to_q4_K_lanes(q8_K + i * q8k::kBytes, out + i * q4lane::kBytes);
  }
}

// Rows [r0, r1) against tokens [t0, t1). One token is a matvec (OneToken: streams the rows).
using OneTokenFn = void (*)(const uint8_t*, int64_t, const uint8_t*, int64_t, float*, int64_t,
                            int64_t);

template <OneTokenFn OneToken, TileFn Tile4, TileFn Tile3, TileFn Tile2, TileFn Tile1>
SMOL_AVX2 void gemm_tiled_avx2(const uint8_t* w, int64_t w_stride, const uint8_t* x,
                               int64_t x_stride, int64_t n, float* y, int64_t y_stride, int64_t r0,
                               int64_t r1, int64_t t0, int64_t t1) {
  if (t1 - t0 == 1) {
    OneToken(w, w_stride, x + t0 * x_stride, n, y + t0 * y_stride, r0, r1);
    return;
  }
  const int64_t nb = n / kQK;
  // Row groups of kRowGroup against tiles of kTileTokens: a tile's activations stay in L1 across
  // the group's rows, the group's rows in L2 across the token block's tiles.
  for (int64_t tb = t0; tb < t1; tb += kTokenBlock) {
    const int64_t te = std::min(tb + kTokenBlock, t1);
    auto x_at = [&](int64_t t) { return x + t * x_stride; };
    for (int64_t g = r0; g < r1; g += kRowGroup) {
      const int64_t ge = std::min(g + kRowGroup, r1);
      int64_t t = tb;
      for (; t + kTileTokens <= te; t += kTileTokens) {
        for (int64_t r = g; r < ge; ++r) {
          Tile4(w + r * w_stride, nb, x_at(t), x_stride, y + t * y_stride + r, y_stride);
        }
      }
      const uint8_t* xt = x_at(t);
      for (int64_t r = g; r < ge; ++r) {
        const uint8_t* row = w + r * w_stride;
        float* yt = y + t * y_stride + r;
        switch (te - t) {
          case 3:
            Tile3(row, nb, xt, x_stride, yt, y_stride);
            break;
          case 2:
            Tile2(row, nb, xt, x_stride, yt, y_stride);
            break;
          case 1:
            Tile1(row, nb, xt, x_stride, yt, y_stride);
            break;
          default:
            break;
        }
      }
    }
  }
}

float dot_f16_bytes(int64_t n, const void* w, const void* x) {
  return dot_f16_avx2(n, static_cast<const uint16_t*>(w), static_cast<const float*>(x));
}
float dot_f32_bytes(int64_t n, const void* w, const void* x) {
  return dot_f32_avx2(n, static_cast<const float*>(w), static_cast<const float*>(x));
}

template <float (*Dot)(int64_t, const void*, const void*)>
void gemm_rows(const uint8_t* w, int64_t w_stride, const uint8_t* x, int64_t x_stride, int64_t n,
               float* y, int64_t y_stride, int64_t r0, int64_t r1, int64_t t0, int64_t t1) {
  gemm_by_rows(Dot, w, w_stride, x, x_stride, n, y, y_stride, r0, r1, t0, t1);
}

}  // namespace

const KernelTable& avx2_kernels() {
  static const KernelTable table = {
      Isa::kAvx2,
      quantize_q8_K_avx2,
      dot_q4_K_avx2,
      dot_q6_K_avx2,
      dot_q8_0_avx2,
      dot_f16_avx2,
      dot_f32_avx2,
      gemm_tiled_avx2<q4_K_rows_one_token, q4_K_tile_avx2<4>, q4_K_tile_avx2<3>, q4_K_tile_avx2<2>,
                      q4_K_tile_avx2<1>>,
      gemm_tiled_avx2<q6_K_rows_one_token, q6_K_tile_avx2<4>, q6_K_tile_avx2<3>, q6_K_tile_avx2<2>,
                      q6_K_tile_avx2<1>>,
      gemm_rows<dot_q8_0_avx2>,
      gemm_rows<dot_f16_bytes>,
      gemm_rows<dot_f32_bytes>,
      true,
      q4_K_lane_acts,
      q4lane::kBytes,
  };
  return table;
}

}  // namespace smol::kernels::detail
