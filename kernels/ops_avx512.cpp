// AVX-512 tier of the f32 ops (F/BW/VL + FMA + F16C; the kernels tier also requires VNNI). Every
// function carries the target attribute, so this file builds without -m flags and is only entered
// after the CPUID check. Tails use masked loads/stores, so any length and alignment works. GCC 12
// reports false "uninitialized" warnings inside avx512fintrin.h (_mm512_undefined_*).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include <immintrin.h>

#include <cmath>

#include "ops_internal.h"

#define SMOL_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma,f16c")))

namespace smol::kernels::ops_detail {
namespace {

// Upper 8 floats (AVX-512F only; the DQ form is not part of the tier's requirements).
SMOL_AVX512 inline __m256 hi256(__m512 v) {
  return _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
}

SMOL_AVX512 inline __mmask16 tail_mask(int64_t n) {
  return static_cast<__mmask16>((1u << n) - 1u);  // 0 < n < 16
}

// 2^j for integer j in [-126, 127] (exponent-field construction).
SMOL_AVX512 inline __m512 pow2i(__m512i j) {
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(j, _mm512_set1_epi32(127)), 23));
}

// exp(x) to ~2 ulp: x = n ln2 + r, |r| <= ln2/2, Cephes-style degree-7 polynomial for e^r, then
// scaling by 2^n split in two factors so results down into the subnormal range stay right.
SMOL_AVX512 inline __m512 exp_ps(__m512 x) {
  const __m512 lo = _mm512_set1_ps(-104.0f), hi = _mm512_set1_ps(88.72283935546875f);
  const __mmask16 underflow = _mm512_cmp_ps_mask(x, lo, _CMP_LT_OQ);
  const __mmask16 overflow = _mm512_cmp_ps_mask(x, hi, _CMP_GT_OQ);
  x = _mm512_min_ps(hi, _mm512_max_ps(lo, x));  // operand order keeps NaN
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  const __m512 r2 = _mm512_mul_ps(r, r);
  p = _mm512_fmadd_ps(p, r2, _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  const __m512i j = _mm512_cvtps_epi32(n);
  const __m512i j1 = _mm512_srai_epi32(j, 1);
  const __m512i j2 = _mm512_sub_epi32(j, j1);
  __m512 y = _mm512_mul_ps(_mm512_mul_ps(p, pow2i(j1)), pow2i(j2));
  y = _mm512_mask_blend_ps(underflow, y, _mm512_setzero_ps());
  return _mm512_mask_blend_ps(overflow, y, _mm512_set1_ps(INFINITY));
}

SMOL_AVX512 void rms_norm_avx512(const float* x, const float* weight, float* out, int64_t n,
                                 float eps) {
  __m512d acc0 = _mm512_setzero_pd(), acc1 = _mm512_setzero_pd();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 v = _mm512_loadu_ps(x + i);
    const __m512 sq = _mm512_mul_ps(v, v);  // float squares, as the reference
    acc0 = _mm512_add_pd(acc0, _mm512_cvtps_pd(_mm512_castps512_ps256(sq)));
    acc1 = _mm512_add_pd(acc1, _mm512_cvtps_pd(hi256(sq)));
  }
  if (i < n) {
    const __m512 v = _mm512_maskz_loadu_ps(tail_mask(n - i), x + i);
    const __m512 sq = _mm512_mul_ps(v, v);
    acc0 = _mm512_add_pd(acc0, _mm512_cvtps_pd(_mm512_castps512_ps256(sq)));
    acc1 = _mm512_add_pd(acc1, _mm512_cvtps_pd(hi256(sq)));
  }
  const double sum = _mm512_reduce_add_pd(_mm512_add_pd(acc0, acc1));
  const float mean = static_cast<float>(sum / static_cast<double>(n));
  const __m512 scale = _mm512_set1_ps(1.0f / std::sqrt(mean + eps));
  for (i = 0; i + 16 <= n; i += 16) {
    const __m512 y = _mm512_mul_ps(_mm512_loadu_ps(x + i), scale);
    _mm512_storeu_ps(out + i, _mm512_mul_ps(y, _mm512_loadu_ps(weight + i)));
  }
  if (i < n) {
    const __mmask16 m = tail_mask(n - i);
    const __m512 y = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + i), scale);
    _mm512_mask_storeu_ps(out + i, m, _mm512_mul_ps(y, _mm512_maskz_loadu_ps(m, weight + i)));
  }
}

SMOL_AVX512 float max_avx512(const float* x, int64_t n) {
  __m512 m = _mm512_set1_ps(-INFINITY);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) m = _mm512_max_ps(m, _mm512_loadu_ps(x + i));
  if (i < n)
    m = _mm512_mask_max_ps(m, tail_mask(n - i), m, _mm512_maskz_loadu_ps(tail_mask(n - i), x + i));
  return _mm512_reduce_max_ps(m);
}

SMOL_AVX512 float exp_sub_sum_avx512(float* x, int64_t n, float max) {
  const __m512 vm = _mm512_set1_ps(max);
  __m512 acc = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 e = exp_ps(_mm512_sub_ps(_mm512_loadu_ps(x + i), vm));
    _mm512_storeu_ps(x + i, e);
    acc = _mm512_add_ps(acc, e);
  }
  if (i < n) {
    const __mmask16 m = tail_mask(n - i);
    const __m512 e = exp_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + i), vm));
    _mm512_mask_storeu_ps(x + i, m, e);
    acc = _mm512_mask_add_ps(acc, m, acc, e);
  }
  return _mm512_reduce_add_ps(acc);
}

SMOL_AVX512 void softmax_avx512(float* x, int64_t n) {
  const float m = max_avx512(x, n);
  const float sum = exp_sub_sum_avx512(x, n, m);
  const __m512 inv = _mm512_set1_ps(1.0f / sum);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(x + i, _mm512_mul_ps(_mm512_loadu_ps(x + i), inv));
  if (i < n) {
    const __mmask16 m16 = tail_mask(n - i);
    _mm512_mask_storeu_ps(x + i, m16, _mm512_mul_ps(_mm512_maskz_loadu_ps(m16, x + i), inv));
  }
}

SMOL_AVX512 inline __m512 silu_mul16(__m512 g, __m512 u) {
  const __m512 e = exp_ps(_mm512_sub_ps(_mm512_setzero_ps(), g));
  return _mm512_mul_ps(_mm512_div_ps(g, _mm512_add_ps(_mm512_set1_ps(1.0f), e)), u);
}

SMOL_AVX512 void silu_mul_avx512(const float* gate, const float* up, float* out, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    _mm512_storeu_ps(out + i, silu_mul16(_mm512_loadu_ps(gate + i), _mm512_loadu_ps(up + i)));
  }
  if (i < n) {
    const __mmask16 m = tail_mask(n - i);
    _mm512_mask_storeu_ps(
        out + i, m,
        silu_mul16(_mm512_maskz_loadu_ps(m, gate + i), _mm512_maskz_loadu_ps(m, up + i)));
  }
}

SMOL_AVX512 void add_avx512(const float* a, const float* b, float* out, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    _mm512_storeu_ps(out + i, _mm512_add_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i)));
  }
  if (i < n) {
    const __mmask16 m = tail_mask(n - i);
    _mm512_mask_storeu_ps(
        out + i, m,
        _mm512_add_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i)));
  }
}

SMOL_AVX512 void f32_to_f16_avx512(const float* x, uint16_t* out, int64_t n) {
  constexpr int kRound = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i),
                        _mm512_cvtps_ph(_mm512_loadu_ps(x + i), kRound));
  }
  if (i < n) {
    const __mmask16 m = tail_mask(n - i);
    _mm256_mask_storeu_epi16(out + i, m, _mm512_cvtps_ph(_mm512_maskz_loadu_ps(m, x + i), kRound));
  }
}

SMOL_AVX512 inline __m512 load_f16(const uint16_t* p) {
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}

SMOL_AVX512 void f16_to_f32_avx512(const uint16_t* x, float* out, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(out + i, load_f16(x + i));
  if (i < n) {
    const __mmask16 m = tail_mask(n - i);
    _mm512_mask_storeu_ps(out + i, m, _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, x + i)));
  }
}

// Horizontal sums of four vectors: lane i of the result = sum of the 16 lanes of v[i].
SMOL_AVX512 inline __m128 hsum4(__m512 a, __m512 b, __m512 c, __m512 d) {
  const __m256 a8 = _mm256_add_ps(_mm512_castps512_ps256(a), hi256(a));
  const __m256 b8 = _mm256_add_ps(_mm512_castps512_ps256(b), hi256(b));
  const __m256 c8 = _mm256_add_ps(_mm512_castps512_ps256(c), hi256(c));
  const __m256 d8 = _mm256_add_ps(_mm512_castps512_ps256(d), hi256(d));
  const __m256 h = _mm256_hadd_ps(_mm256_hadd_ps(a8, b8), _mm256_hadd_ps(c8, d8));
  return _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
}

// NR query rows against K rows, four K rows per step (16 accumulators for NR = 4).
template <int NR>
SMOL_AVX512 void scores_rows(const float* q, const uint16_t* k, int64_t n_k, int hd, float scale,
                             float* s, int64_t ld_s) {
  const __m128 vscale = _mm_set1_ps(scale);
  int64_t j = 0;
  for (; j + 4 <= n_k; j += 4) {
    __m512 acc[NR][4];
    for (int r = 0; r < NR; ++r)
      for (int jj = 0; jj < 4; ++jj) acc[r][jj] = _mm512_setzero_ps();
    const uint16_t* kj = k + j * hd;
    for (int d = 0; d < hd; d += 16) {
      __m512 kv[4];
      for (int jj = 0; jj < 4; ++jj) kv[jj] = load_f16(kj + jj * hd + d);
      for (int r = 0; r < NR; ++r) {
        const __m512 qv = _mm512_loadu_ps(q + r * hd + d);
        for (int jj = 0; jj < 4; ++jj) acc[r][jj] = _mm512_fmadd_ps(qv, kv[jj], acc[r][jj]);
      }
    }
    for (int r = 0; r < NR; ++r) {
      _mm_storeu_ps(s + r * ld_s + j,
                    _mm_mul_ps(hsum4(acc[r][0], acc[r][1], acc[r][2], acc[r][3]), vscale));
    }
  }
  for (; j < n_k; ++j) {
    const uint16_t* kj = k + j * hd;
    for (int r = 0; r < NR; ++r) {
      __m512 acc = _mm512_setzero_ps();
      for (int d = 0; d < hd; d += 16) {
        acc = _mm512_fmadd_ps(_mm512_loadu_ps(q + r * hd + d), load_f16(kj + d), acc);
      }
      s[r * ld_s + j] = _mm512_reduce_add_ps(acc) * scale;
    }
  }
}

SMOL_AVX512 void attn_scores_avx512(const float* q, int n_q, const uint16_t* k, int64_t n_k, int hd,
                                    float scale, float* s, int64_t ld_s) {
  if (hd % 16 != 0) return scalar_table().attn_scores(q, n_q, k, n_k, hd, scale, s, ld_s);
  int r = 0;
  for (; r + 4 <= n_q; r += 4) scores_rows<4>(q + r * hd, k, n_k, hd, scale, s + r * ld_s, ld_s);
  switch (n_q - r) {
    case 3:
      scores_rows<3>(q + r * hd, k, n_k, hd, scale, s + r * ld_s, ld_s);
      break;
    case 2:
      scores_rows<2>(q + r * hd, k, n_k, hd, scale, s + r * ld_s, ld_s);
      break;
    case 1:
      scores_rows<1>(q + r * hd, k, n_k, hd, scale, s + r * ld_s, ld_s);
      break;
    default:
      break;
  }
}

// out rows (in L1) += p-weighted V rows, four V rows per step.
template <int NR>
SMOL_AVX512 void accum_rows(const float* p, int64_t ld_p, const uint16_t* v, int64_t n_k, int hd,
                            float* out) {
  int64_t j = 0;
  for (; j + 4 <= n_k; j += 4) {
    __m512 pb[NR][4];
    for (int r = 0; r < NR; ++r)
      for (int jj = 0; jj < 4; ++jj) pb[r][jj] = _mm512_set1_ps(p[r * ld_p + j + jj]);
    const uint16_t* vj = v + j * hd;
    for (int d = 0; d < hd; d += 16) {
      __m512 vv[4];
      for (int jj = 0; jj < 4; ++jj) vv[jj] = load_f16(vj + jj * hd + d);
      for (int r = 0; r < NR; ++r) {
        __m512 o = _mm512_loadu_ps(out + r * hd + d);
        for (int jj = 0; jj < 4; ++jj) o = _mm512_fmadd_ps(pb[r][jj], vv[jj], o);
        _mm512_storeu_ps(out + r * hd + d, o);
      }
    }
  }
  for (; j < n_k; ++j) {
    const uint16_t* vj = v + j * hd;
    for (int r = 0; r < NR; ++r) {
      const __m512 pj = _mm512_set1_ps(p[r * ld_p + j]);
      for (int d = 0; d < hd; d += 16) {
        _mm512_storeu_ps(out + r * hd + d,
                         _mm512_fmadd_ps(pj, load_f16(vj + d), _mm512_loadu_ps(out + r * hd + d)));
      }
    }
  }
}

SMOL_AVX512 void attn_accum_avx512(const float* p, int n_q, int64_t ld_p, const uint16_t* v,
                                   int64_t n_k, int hd, float* out) {
  if (hd % 16 != 0) return scalar_table().attn_accum(p, n_q, ld_p, v, n_k, hd, out);
  int r = 0;
  for (; r + 4 <= n_q; r += 4) accum_rows<4>(p + r * ld_p, ld_p, v, n_k, hd, out + r * hd);
  switch (n_q - r) {
    case 3:
      accum_rows<3>(p + r * ld_p, ld_p, v, n_k, hd, out + r * hd);
      break;
    case 2:
      accum_rows<2>(p + r * ld_p, ld_p, v, n_k, hd, out + r * hd);
      break;
    case 1:
      accum_rows<1>(p + r * ld_p, ld_p, v, n_k, hd, out + r * hd);
      break;
    default:
      break;
  }
}

}  // namespace

const OpsTable& avx512_table() {
  static const OpsTable table = {
      rms_norm_avx512,   softmax_avx512,     silu_mul_avx512, add_avx512,         f32_to_f16_avx512,
      f16_to_f32_avx512, exp_sub_sum_avx512, max_avx512,      attn_scores_avx512, attn_accum_avx512,
  };
  return table;
}

}  // namespace smol::kernels::ops_detail
