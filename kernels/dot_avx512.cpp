// AVX-512 tier: AVX-512 F/BW/VL plus VNNI (vpdpwssd, vpdpbusd). Every function carries the target
// attribute; nothing here is inline in a header (no ODR hazard for generic code).
//
// K-quant recipe, per 256-weight block and token: the weights unpacked to u8 (0..15 for Q4_K,
// 0..63 for Q6_K; decoded once per block, shared by every token), four vpdpbusd against the
// Q8_K activations (-> s32 lanes of 4 products each, |lane| <= 4·63·128 < 2^15), two vpackssdw
// (exact: nothing saturates) and two vpdpwssd with the s16 sub-block scales. That is 6
// multiplies per token where vpmaddubsw + vpdpwssd per 64 weights took 8; the packs run on the
// shuffle ports. One float FMA per block applies d·d_a.
// The Q6_K -32 offset joins the integer sum (one more vpdpwssd of -32·sc against the bsums). The
// Q4_K mins scale with dmin, not d, so they stay a separate sum: one 128-bit vpdpwssd of m
// against the activations' sub-block sums and one 4-lane FMA per token and block.
// Q4_K reads its activations in an order made once per call (Q4KActs): a 64-byte load of the
// quants then holds two sub-blocks' worth of low nibbles and two of high ones, one AND (or a
// shift and an AND) per 64 weights instead of a broadcast, a variable shift and an AND.
//
// The row gemm kernels decode a weight block once and apply it to up to kTile tokens. Q6_K and
// a lone Q4_K token use exactly the dot kernel's operations per (row, token) (the Q4_K dot is
// the one-token row tile); Q4_K takes the other tokens in pairs, which share the packs'
// vectors, the conversion and both FMAs (same integer sums, another float summation order).
// Decode (one token) runs two rows per pass, one from each half of the thread's rows, so one
// set of activation loads serves two weight blocks (q4_K_row_pair, q6_K_row_pair); each row
// still gets the one-row tile's operations.
// Prefill (8+ tokens) uses the interleaved 16-row kernels of gemm_avx512.cpp instead.
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
#include "prefetch.h"

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

// ---- Shared by Q4_K and Q6_K -----------------------------------------------------------------

// Σ sc·(q·a) over one block, in s32 lanes: Pc = vpdpbusd(q[c], activations 64c..64c+63), then
// pack(P0, P1) and pack(P2, P3) against the s16 scales sc[0], sc[1]. vpackssdw interleaves its
// sources per 128-bit lane (words 8k..8k+3 from dwords 4k..4k+3 of the first, words 8k+4..8k+7
// from the same dwords of the second), so the scale vectors follow that layout (tables below).
SMOL_AVX512 inline __m512i block_isum(const __m512i q[4], const __m512i sc[2], const __m512i a[4]) {
  const __m512i z = _mm512_setzero_si512();
  const __m512i p0 = _mm512_dpbusd_epi32(z, q[0], a[0]);
  const __m512i p1 = _mm512_dpbusd_epi32(z, q[1], a[1]);
  const __m512i p2 = _mm512_dpbusd_epi32(z, q[2], a[2]);
  const __m512i p3 = _mm512_dpbusd_epi32(z, q[3], a[3]);
  const __m512i isum = _mm512_dpwssd_epi32(z, _mm512_packs_epi32(p0, p1), sc[0]);
  return _mm512_dpwssd_epi32(isum, _mm512_packs_epi32(p2, p3), sc[1]);
}

// Two tokens share the pack instead: pack(Pc(t0), Pc(t1)) holds chunk c of both, so each 128-bit
// lane's 8 words belong to one sub-block, and after vpdpwssd s32 lanes 0-1 of every 128-bit lane
// are token 0's, lanes 2-3 token 1's. One vpdpwssd chain, one conversion and one FMA then serve
// both tokens.
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

// ---- Q4_K ----------------------------------------------------------------------------------
//
// A 64-byte load of a Q4_K block's quants holds sub-blocks 0 and 2 in its low nibbles and 1 and 3
// in its high ones (then 4-7 the same). Rather than shuffling the weights of every row into
// element order, the activations are laid out once per call in that order (Q4KActs); the
// nibbles then cost one AND, or a shift and an AND, per 64 weights.

// A Q4KActs block: the Q8_K quants in 32-byte pieces 0,2,1,3,4,6,5,7; the 8 sub-block sums of
// bsums (s16, |sum| <= 32·128) for the mins; d_a.
namespace q4act {
constexpr int64_t kQs = 0, kSubSums = 256, kD = 272, kBytes = 288;
}  // namespace q4act

// vpshufb patterns that spread a block's 8 sub-block scales, broadcast to every 64-bit lane, over
// s16 words. Word j of 128-bit lane k takes sub-block (j < 4 ? first : second)(k < 2 ? 0 : 1).
struct ScaleShuffle {
  alignas(64) uint8_t b[64];
};
constexpr ScaleShuffle scale_words(int first0, int first1, int second0, int second1) {
  ScaleShuffle s{};
  for (int k = 0; k < 4; ++k) {
    for (int j = 0; j < 8; ++j) {
      const int sb = j < 4 ? (k < 2 ? first0 : first1) : (k < 2 ? second0 : second1);
      s.b[16 * k + 2 * j] = static_cast<uint8_t>(sb);
      s.b[16 * k + 2 * j + 1] = 0x80;  // high byte 0
    }
  }
  return s;
}
// One token: pack(P0, P1) with P0 = sub-blocks (0 | 2) in dwords (0-7 | 8-15), P1 = (1 | 3);
// pack(P2, P3) the same for 4-7.
constexpr ScaleShuffle kQ4KScale[2] = {scale_words(0, 2, 1, 3), scale_words(4, 6, 5, 7)};
// Token pairs: pack(Pc(t0), Pc(t1)), chunk c = sub-blocks (0|2), (1|3), (4|6), (5|7).
constexpr ScaleShuffle kQ4KPairScale[4] = {scale_words(0, 2, 0, 2), scale_words(1, 3, 1, 3),
                                           scale_words(4, 6, 4, 6), scale_words(5, 7, 5, 7)};

// Per token pair and block, made once per call: da of each token in its lanes of the pair
// layout, and in the lanes of the pair's mins sum (4 per token).
constexpr int64_t kPairFloats = 24;
struct PairActs {
  const float* da;   // 16 lanes: da_{t0} in kPairLanes0, da_{t1} in kPairLanes1
  const float* da8;  // 8 lanes: da_{t0} in 0-3, da_{t1} in 4-7
};

// One Q4_K block decoded for the row tiles; the single-token fields when Single, the pair fields
// when Pairs.
struct Q4KDecoded {
  __m512i q[4];    // chunk c: weights of sub-blocks (0|2), (1|3), (4|6), (5|7) as u8
  __m128 dm;       // (d, dmin, 0, 0)
  __m512i sc[2];   // one token: kQ4KScale layouts
  __m128i m16;     // one token: m_0..m_7 as s16
  __m512i scp[4];  // pairs: kQ4KPairScale layouts
  __m512 d;        // pairs: d, broadcast
  __m256i m16x2;   // pairs: m16 in both 128-bit halves
  __m256 dmin;     // pairs: dmin, broadcast
};

static_assert(q4k::kDmin == q4k::kD + 2);
template <bool Single, bool Pairs>
SMOL_AVX512 inline void decode_q4_K(const uint8_t* w, Q4KDecoded& out) {
  const __m512i low4 = _mm512_set1_epi8(0x0f);
  __m512i r01 = loadu512(w + q4k::kQs), r23 = loadu512(w + q4k::kQs + 64);
  // One load each: folded into both the AND and the shift, GCC would read the same 64 bytes
  // twice (+4.7% in L2; docs/performance.md, session 6).
  asm("" : "+v"(r01), "+v"(r23));
  out.q[0] = _mm512_and_si512(r01, low4);
  out.q[1] = _mm512_and_si512(_mm512_srli_epi16(r01, 4), low4);
  out.q[2] = _mm512_and_si512(r23, low4);
  out.q[3] = _mm512_and_si512(_mm512_srli_epi16(r23, 4), low4);
  const Q4KScales s = unpack_q4_K_scales(w + q4k::kScales);
  const __m512i sc_b = _mm512_set1_epi64(static_cast<long long>(s.sc));
  out.dm = _mm_cvtph_ps(_mm_cvtsi32_si128(static_cast<int>(load_u32(w + q4k::kD))));
  const __m128i m8 = _mm_cvtsi64_si128(static_cast<long long>(s.m));
  const __m128i m16 = _mm_cvtepu8_epi16(m8);
  if constexpr (Single) {
    out.sc[0] = _mm512_shuffle_epi8(sc_b, _mm512_load_si512(kQ4KScale[0].b));
    out.sc[1] = _mm512_shuffle_epi8(sc_b, _mm512_load_si512(kQ4KScale[1].b));
    out.m16 = m16;
  }
  if constexpr (Pairs) {
    for (int c = 0; c < 4; ++c) {
      out.scp[c] = _mm512_shuffle_epi8(sc_b, _mm512_load_si512(kQ4KPairScale[c].b));
    }
    out.d = _mm512_broadcastss_ps(out.dm);
    out.m16x2 = _mm256_broadcastsi128_si256(m16);
    out.dmin = _mm256_broadcastss_ps(_mm_permute_ps(out.dm, 0x55));
  }
}

// A Q4KActs block as loaded once: quants (4 zmm), sub-block sums, d_a.
struct Q4KActBlock {
  __m512i q[4];
  __m128i sub;
  __m128 da;
};
SMOL_AVX512 inline Q4KActBlock load_q4_K_acts(const uint8_t* a) {
  Q4KActBlock r{{loadu512(a + q4act::kQs), loadu512(a + q4act::kQs + 64),
                 loadu512(a + q4act::kQs + 128), loadu512(a + q4act::kQs + 192)},
                _mm_loadu_si128(reinterpret_cast<const __m128i*>(a + q4act::kSubSums)),
                _mm_set1_ps(load_f32(a + q4act::kD))};
  return r;
}
// One token's Q4KActs block `a`: acc += d·d_a·Σ sc·(q·a); acc_m (4 lanes) collects
// dmin·d_a·Σ m_j·(sub-block sum j), the mins as an s32 dot.
SMOL_AVX512 inline void apply_q4_K(const Q4KDecoded& b, const Q4KActBlock& a, __m512& acc,
                                   __m128& acc_m) {
  const __m512i isum = block_isum(b.q, b.sc, a.q);
  const __m128 dd = _mm_mul_ps(b.dm, a.da);  // d·da, dmin·da
  acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_broadcastss_ps(dd), acc);
  const __m128i msum = _mm_dpwssd_epi32(_mm_setzero_si128(), b.m16, a.sub);
  acc_m = _mm_fmadd_ps(_mm_cvtepi32_ps(msum), _mm_permute_ps(dd, 0x55), acc_m);
}
SMOL_AVX512 inline void apply_q4_K(const Q4KDecoded& b, const uint8_t* a, __m512& acc,
                                   __m128& acc_m) {
  apply_q4_K(b, load_q4_K_acts(a), acc, acc_m);
}

// Tokens a0 and a1 together: acc (pair lanes) += d·d_a·Σ sc·(q·a); acc_m (lanes 0-3 token 0,
// 4-7 token 1) += dmin·d_a·Σ m_j·(sub-block sum j), lane for lane what apply_q4_K computes.
SMOL_AVX512 inline void apply_q4_K_pair(const Q4KDecoded& b, const uint8_t* a0, const uint8_t* a1,
                                        PairActs pa, __m512& acc, __m256& acc_m) {
  const __m512i isum = pair_isum(b.q, b.scp, a0 + q4act::kQs, a1 + q4act::kQs);
  const __m512 dd = _mm512_mul_ps(b.d, _mm512_loadu_ps(pa.da));
  acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), dd, acc);
  const __m256i sub = _mm256_inserti128_si256(
      _mm256_castsi128_si256(
          _mm_loadu_si128(reinterpret_cast<const __m128i*>(a0 + q4act::kSubSums))),
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(a1 + q4act::kSubSums)), 1);
  const __m256i msum = _mm256_dpwssd_epi32(_mm256_setzero_si256(), b.m16x2, sub);
  acc_m = _mm256_fmadd_ps(_mm256_cvtepi32_ps(msum), _mm256_mul_ps(b.dmin, _mm256_loadu_ps(pa.da8)),
                          acc_m);
}

// One Q8_K block in the Q4KActs layout.
SMOL_AVX512 inline void to_q4_K_acts(const uint8_t* a, uint8_t* out) {
  constexpr int kPiece[8] = {0, 2, 1, 3, 4, 6, 5, 7};
  for (int k = 0; k < 8; ++k) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + q4act::kQs + 32 * k),
                        loadu256(a + q8k::kQs + 32 * kPiece[k]));
  }
  const __m256i b = loadu256(a + q8k::kBsums);
  const __m256i pairs = _mm256_hadd_epi16(b, b);  // per 128-bit lane: 4 sums, twice
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out + q4act::kSubSums),
                   _mm256_castsi256_si128(_mm256_permute4x64_epi64(pairs, 0x08)));
  std::memcpy(out + q4act::kD, a + q8k::kD, 4);
}

// The PairActs of tokens a (x_a) and b (x_b) for one block, written to out[0, kPairFloats).
SMOL_AVX512 inline void make_pair_acts(const uint8_t* x_a, const uint8_t* x_b, float* out) {
  const __m512 da = _mm512_set1_ps(load_f32(x_a + q8k::kD));
  const __m512 db = _mm512_set1_ps(load_f32(x_b + q8k::kD));
  _mm512_storeu_ps(out, _mm512_mask_blend_ps(kPairLanes1, da, db));
  _mm256_storeu_ps(out + 16, _mm512_castps512_ps256(_mm512_mask_blend_ps(0x00f0, da, db)));
}

// What the Q4_K row tiles read for tokens [t0, t1): every token in the Q4KActs layout
// (x, x_stride), and every pair (t0 + 2p, t0 + 2p + 1)'s PairActs (kPairFloats per block, nb of
// them per pair), in grow-only per-thread buffers.
struct RowActs {
  const uint8_t* x;
  int64_t x_stride;
  const float* pairs;
};
SMOL_AVX512 RowActs q4_K_row_acts(const uint8_t* x, int64_t x_stride, int64_t nb, int64_t t0,
                                  int64_t t1) {
  thread_local std::vector<uint8_t> buf;
  thread_local std::vector<float> pair_buf;
  const int64_t stride = nb * q4act::kBytes;
  const size_t need = static_cast<size_t>((t1 - t0) * stride);
  if (buf.size() < need) buf.resize(need);
  for (int64_t t = t0; t < t1; ++t) {
    for (int64_t i = 0; i < nb; ++i) {
      to_q4_K_acts(x + t * x_stride + i * q8k::kBytes,
                   buf.data() + (t - t0) * stride + i * q4act::kBytes);
    }
  }
  const int64_t n_pairs = (t1 - t0) / 2;
  const size_t pair_need = static_cast<size_t>(n_pairs * nb * kPairFloats);
  if (pair_buf.size() < pair_need) pair_buf.resize(pair_need);
  for (int64_t p = 0; p < n_pairs; ++p) {
    const uint8_t* xa = x + (t0 + 2 * p) * x_stride;
    for (int64_t i = 0; i < nb; ++i) {
      make_pair_acts(xa + i * q8k::kBytes, xa + x_stride + i * q8k::kBytes,
                     pair_buf.data() + (p * nb + i) * kPairFloats);
    }
  }
  return {buf.data(), stride, pair_buf.data()};
}

SMOL_AVX512 inline PairActs pair_acts(const float* ps, int64_t nb, int p, int64_t i) {
  const float* base = ps + (p * nb + i) * kPairFloats;
  return {base, base + 16};
}

// One weight row against T tokens in the Q4KActs layout, taken in pairs (and one single token
// when T is odd); ps holds the pairs' PairActs.
template <int T>
SMOL_AVX512 void q4_K_row_tile(const uint8_t* w, int64_t nb, const uint8_t* x, int64_t x_stride,
                               const float* ps, float* y, int64_t y_stride) {
  constexpr int P = T / 2;
  constexpr bool kOdd = T % 2 == 1;
  __m512 acc[P + 1];            // pairs, then the odd token
  __m256 acc_m[P > 0 ? P : 1];  // (no zero-length array for T = 1)
  for (int j = 0; j <= P; ++j) acc[j] = _mm512_setzero_ps();
  for (int j = 0; j < P; ++j) acc_m[j] = _mm256_setzero_ps();
  __m128 acc_m1 = _mm_setzero_ps();
  Q4KDecoded b;
  for (int64_t i = 0; i < nb; ++i) {
    prefetch_ahead(w + i * q4k::kBytes, q4k::kBytes);
    decode_q4_K<kOdd, (P > 0)>(w + i * q4k::kBytes, b);
    for (int p = 0; p < P; ++p) {
      const uint8_t* a0 = x + 2 * p * x_stride + i * q4act::kBytes;
      apply_q4_K_pair(b, a0, a0 + x_stride, pair_acts(ps, nb, p, i), acc[p], acc_m[p]);
    }
    if constexpr (kOdd) {
      apply_q4_K(b, x + (T - 1) * x_stride + i * q4act::kBytes, acc[P], acc_m1);
    }
  }
  for (int p = 0; p < P; ++p) {
    y[2 * p * y_stride] =
        _mm512_mask_reduce_add_ps(kPairLanes0, acc[p]) - hsum128(_mm256_castps256_ps128(acc_m[p]));
    y[(2 * p + 1) * y_stride] = _mm512_mask_reduce_add_ps(kPairLanes1, acc[p]) -
                                hsum128(_mm256_extractf128_ps(acc_m[p], 1));
  }
  if constexpr (kOdd) y[(T - 1) * y_stride] = _mm512_reduce_add_ps(acc[P]) - hsum128(acc_m1);
}

// Rows a and b against one token (decode), each row exactly as q4_K_row_tile<1> computes it,
// sharing the activation loads: per block 6 loads of 64 bytes serve 288 weight bytes instead of
// 144. The caller takes the two rows from the two halves of its range, so each row stream stays
// sequential (adjacent rows read in step halved the streaming speed).
SMOL_AVX512 void q4_K_row_pair(const uint8_t* wa, const uint8_t* wb, int64_t nb, const uint8_t* x,
                               float* ya, float* yb) {
  __m512 acc_a = _mm512_setzero_ps(), acc_b = _mm512_setzero_ps();
  __m128 acc_ma = _mm_setzero_ps(), acc_mb = _mm_setzero_ps();
  Q4KDecoded da, db;
  for (int64_t i = 0; i < nb; ++i) {
    prefetch_ahead(wa + i * q4k::kBytes, q4k::kBytes);
    prefetch_ahead(wb + i * q4k::kBytes, q4k::kBytes);
    decode_q4_K<true, false>(wa + i * q4k::kBytes, da);
    decode_q4_K<true, false>(wb + i * q4k::kBytes, db);
    Q4KActBlock a = load_q4_K_acts(x + i * q4act::kBytes);
    asm("" : "+v"(a.q[0]), "+v"(a.q[1]), "+v"(a.q[2]), "+v"(a.q[3]), "+v"(a.sub));  // loaded once
    apply_q4_K(da, a, acc_a, acc_ma);
    apply_q4_K(db, a, acc_b, acc_mb);
  }
  *ya = _mm512_reduce_add_ps(acc_a) - hsum128(acc_ma);
  *yb = _mm512_reduce_add_ps(acc_b) - hsum128(acc_mb);
}

// The dot is the one-row, one-token case of the row tile (so the dot tests cover it).
SMOL_AVX512 float dot_q4_K_avx512(int64_t n, const void* wv, const void* av) {
  const RowActs acts = q4_K_row_acts(static_cast<const uint8_t*>(av), 0, n / kQK, 0, 1);
  float y = 0.0f;
  q4_K_row_tile<1>(static_cast<const uint8_t*>(wv), n / kQK, acts.x, acts.x_stride, nullptr, &y, 0);
  return y;
}

// ---- Q6_K ----------------------------------------------------------------------------------

// Group (16 weights) behind every word of pack(P0, P1), where Pc covers weights 64c..64c+63
// (element order); pack(P2, P3) is the same plus 8.
alignas(64) constexpr int16_t kQ6KPackScale[32] = {0, 0, 0, 0, 4, 4, 4, 4, 1, 1, 1, 1, 5, 5, 5, 5,
                                                   2, 2, 2, 2, 6, 6, 6, 6, 3, 3, 3, 3, 7, 7, 7, 7};

struct Q6KDecoded {
  __m512i q[4];     // (half 0 low, half 0 high, half 1 low, half 1 high) nibbles: element order
  __m512i sc[2];    // s16 group scales in the packed layout (kQ6KPackScale)
  __m512i neg32sc;  // words 0-15: -32·sc_g, against the activations' bsums (the -32 offset)
  __m512 d;         // d, broadcast
};

SMOL_AVX512 inline void decode_q6_K(const uint8_t* w, Q6KDecoded& out) {
  const __m512i low4 = _mm512_set1_epi8(0x0f);
  const __m512i hmask = _mm512_set1_epi8(0x30);
  // Low zmm of a half: elements 0..31 take qh bits 0-1 (<<4), 32..63 bits 2-3 (<<2).
  const __m512i shl = _mm512_inserti64x4(_mm512_set1_epi16(4), _mm256_set1_epi16(2), 1);
  // High zmm: elements 64..95 take bits 4-5 (as is), 96..127 bits 6-7 (>>2).
  const __m512i shr = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(2), 1);
  const __m128i sc8 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w + q6k::kScales));
  const __m256i sc_y = _mm256_cvtepi8_epi16(sc8);
  const __m512i sc_z = _mm512_castsi256_si512(sc_y);
  for (int h = 0; h < 2; ++h) {
    __m512i ql = loadu512(w + q6k::kQl + 64 * h);
    __m512i qh = _mm512_broadcast_i64x4(loadu256(w + q6k::kQh + 32 * h));
    asm("" : "+v"(ql), "+v"(qh));  // one load each (see decode_q4_K)
    out.q[2 * h] = _mm512_or_si512(_mm512_and_si512(ql, low4),
                                   _mm512_and_si512(_mm512_sllv_epi16(qh, shl), hmask));
    out.q[2 * h + 1] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql, 4), low4),
                                       _mm512_and_si512(_mm512_srlv_epi16(qh, shr), hmask));
  }
  const __m512i idx = _mm512_load_si512(kQ6KPackScale);
  out.sc[0] = _mm512_permutexvar_epi16(idx, sc_z);
  out.sc[1] = _mm512_permutexvar_epi16(_mm512_add_epi16(idx, _mm512_set1_epi16(8)), sc_z);
  // |32·sc| <= 4096 fits s16; the zero upper half cancels whatever sits beside the bsums.
  out.neg32sc =
      _mm512_zextsi256_si512(_mm256_sub_epi16(_mm256_setzero_si256(), _mm256_slli_epi16(sc_y, 5)));
  out.d = _mm512_set1_ps(f16c_load(w + q6k::kD));
}

// A Q8_K block as loaded once: quants, bsums, d_a.
struct Q8KActBlock {
  __m512i q[4];
  __m512i bsums;  // 16 s16 in the low half
  __m512 da;
};
SMOL_AVX512 inline Q8KActBlock load_q8_K_acts(const uint8_t* a) {
  Q8KActBlock r{{loadu512(a + q8k::kQs), loadu512(a + q8k::kQs + 64), loadu512(a + q8k::kQs + 128),
                 loadu512(a + q8k::kQs + 192)},
                _mm512_castsi256_si512(loadu256(a + q8k::kBsums)),
                _mm512_set1_ps(load_f32(a + q8k::kD))};
  return r;
}
// (q6 - 32)·a summed = d·da·(Σ sc·(q6·a) - 32·Σ_g sc_g·bsum_g), all of it in s32: at most
// 256·63·128·128 + 16·4096·2048 < 2^31.
SMOL_AVX512 inline void apply_q6_K(const Q6KDecoded& b, const Q8KActBlock& a, __m512& acc) {
  __m512i isum = block_isum(b.q, b.sc, a.q);
  isum = _mm512_dpwssd_epi32(isum, b.neg32sc, a.bsums);
  acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_mul_ps(b.d, a.da), acc);
}
SMOL_AVX512 inline void apply_q6_K(const Q6KDecoded& b, const uint8_t* a, __m512& acc) {
  apply_q6_K(b, load_q8_K_acts(a), acc);
}

SMOL_AVX512 float dot_q6_K_avx512(int64_t n, const void* wv, const void* av) {
  const auto* w = static_cast<const uint8_t*>(wv);
  const auto* a = static_cast<const uint8_t*>(av);
  __m512 acc = _mm512_setzero_ps();
  Q6KDecoded b;
  for (int64_t i = 0; i < n / kQK; ++i, w += q6k::kBytes, a += q8k::kBytes) {
    decode_q6_K(w, b);
    apply_q6_K(b, a, acc);
  }
  return _mm512_reduce_add_ps(acc);
}

// Q6_K takes its tokens one by one, against the plain Q8_K activations: pairing them saved one
// FMA of three per token and cost two more scale permutes per block; measured, no gain.
template <int T>
SMOL_AVX512 void q6_K_row_tile(const uint8_t* w, int64_t nb, const uint8_t* x, int64_t x_stride,
                               const float* /*ps*/, float* y, int64_t y_stride) {
  __m512 acc[T];
  for (int j = 0; j < T; ++j) acc[j] = _mm512_setzero_ps();
  Q6KDecoded b;
  for (int64_t i = 0; i < nb; ++i) {
    prefetch_ahead(w + i * q6k::kBytes, q6k::kBytes);
    decode_q6_K(w + i * q6k::kBytes, b);
    for (int j = 0; j < T; ++j) apply_q6_K(b, x + j * x_stride + i * q8k::kBytes, acc[j]);
  }
  for (int j = 0; j < T; ++j) y[j * y_stride] = _mm512_reduce_add_ps(acc[j]);
}

// Rows a and b against one token, as q4_K_row_pair (each row exactly as q6_K_row_tile<1>). One
// row's block is decoded and applied before the other's: two decoded Q6_K blocks live at once
// spilled three zmm to the stack per block.
SMOL_AVX512 void q6_K_row_pair(const uint8_t* wa, const uint8_t* wb, int64_t nb, const uint8_t* x,
                               float* ya, float* yb) {
  __m512 acc_a = _mm512_setzero_ps(), acc_b = _mm512_setzero_ps();
  Q6KDecoded d;
  for (int64_t i = 0; i < nb; ++i) {
    Q8KActBlock a = load_q8_K_acts(x + i * q8k::kBytes);
    asm(""
        : "+v"(a.q[0]), "+v"(a.q[1]), "+v"(a.q[2]), "+v"(a.q[3]), "+v"(a.bsums),
          "+v"(a.da));  // loaded once
    prefetch_ahead(wa + i * q6k::kBytes, q6k::kBytes);
    decode_q6_K(wa + i * q6k::kBytes, d);
    apply_q6_K(d, a, acc_a);
    prefetch_ahead(wb + i * q6k::kBytes, q6k::kBytes);
    decode_q6_K(wb + i * q6k::kBytes, d);
    apply_q6_K(d, a, acc_b);
  }
  *ya = _mm512_reduce_add_ps(acc_a);
  *yb = _mm512_reduce_add_ps(acc_b);
}

// ---- Row loop (decode) and the prefill split -----------------------------------------------

using RowTileFn = void (*)(const uint8_t*, int64_t, const uint8_t*, int64_t, const float*, float*,
                           int64_t);
using RowActsFn = RowActs (*)(const uint8_t*, int64_t, int64_t, int64_t, int64_t);
using RowPairFn = void (*)(const uint8_t*, const uint8_t*, int64_t, const uint8_t*, float*, float*);

SMOL_AVX512 RowActs plain_row_acts(const uint8_t* x, int64_t x_stride, int64_t /*nb*/, int64_t t0,
                                   int64_t /*t1*/) {
  return {x + t0 * x_stride, x_stride, nullptr};
}

// Rows [r0, r1) against tokens [t0, t1), kTokenBlock tokens at a time (their activations stay in
// L2 while the rows stream), kTile tokens per pass over a row.
template <RowActsFn Acts, RowTileFn Tile4, RowTileFn Tile3, RowTileFn Tile2, RowTileFn Tile1,
          RowPairFn Pair1 = nullptr>
SMOL_AVX512 void gemm_tiled(const uint8_t* w, int64_t w_stride, const uint8_t* x, int64_t x_stride,
                            int64_t n, float* y, int64_t y_stride, int64_t r0, int64_t r1,
                            int64_t t0, int64_t t1) {
  const int64_t nb = n / kQK;
  for (int64_t tb = t0; tb < t1; tb += kTokenBlock) {
    const int64_t te = tb + kTokenBlock < t1 ? tb + kTokenBlock : t1;
    const RowActs acts = Acts(x, x_stride, nb, tb, te);
    // t - tb stays even, so tiles start on a pair.
    auto x_at = [&](int64_t t) { return acts.x + (t - tb) * acts.x_stride; };
    auto pairs_at = [&](int64_t t) -> const float* {
      return acts.pairs != nullptr ? acts.pairs + (t - tb) / 2 * nb * kPairFloats : nullptr;
    };
    if constexpr (Pair1 != nullptr) {
      if (te - tb == 1) {
        // Decode: row k of the first half beside row k of the second, two sequential streams.
        const int64_t half = (r1 - r0) / 2;
        for (int64_t k = 0; k < half; ++k) {
          const int64_t ra = r0 + k, rb = r0 + half + k;
          Pair1(w + ra * w_stride, w + rb * w_stride, nb, acts.x, y + tb * y_stride + ra,
                y + tb * y_stride + rb);
        }
        if (r0 + 2 * half < r1) {
          const int64_t r = r1 - 1;
          Tile1(w + r * w_stride, nb, acts.x, acts.x_stride, nullptr, y + tb * y_stride + r,
                y_stride);
        }
        continue;
      }
    }
    for (int64_t r = r0; r < r1; ++r) {
      const uint8_t* row = w + r * w_stride;
      int64_t t = tb;
      for (; t + kTile <= te; t += kTile) {
        Tile4(row, nb, x_at(t), acts.x_stride, pairs_at(t), y + t * y_stride + r, y_stride);
      }
      float* yt = y + t * y_stride + r;
      switch (te - t) {
        case 3:
          Tile3(row, nb, x_at(t), acts.x_stride, pairs_at(t), yt, y_stride);
          break;
        case 2:
          Tile2(row, nb, x_at(t), acts.x_stride, pairs_at(t), yt, y_stride);
          break;
        case 1:
          Tile1(row, nb, x_at(t), acts.x_stride, pairs_at(t), yt, y_stride);
          break;
        default:
          break;
      }
    }
  }
}

// Row kernels for decode and for the tail rows of prefill.
constexpr GemmFn kQ4KRows = gemm_tiled<q4_K_row_acts, q4_K_row_tile<4>, q4_K_row_tile<3>,
                                       q4_K_row_tile<2>, q4_K_row_tile<1>, q4_K_row_pair>;
constexpr GemmFn kQ6KRows = gemm_tiled<plain_row_acts, q6_K_row_tile<4>, q6_K_row_tile<3>,
                                       q6_K_row_tile<2>, q6_K_row_tile<1>, q6_K_row_pair>;

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
      false,
      nullptr,
      0,
  };
  return table;
}

}  // namespace smol::kernels::detail
