// AVX2 tier of the f32 ops (AVX2 + FMA + F16C). Every function carries the target attribute, so
// this file builds without -m flags and is only entered after the CPUID check. Tails shorter than
// one vector go through a zero-padded stack copy, so any length and alignment works.
#include <immintrin.h>

#include <cmath>
#include <cstring>

#include "ops_internal.h"
#include "smol/fp16.h"

#define SMOL_AVX2 __attribute__((target("avx2,fma,f16c")))

namespace smol::kernels::ops_detail {
namespace {

SMOL_AVX2 inline __m256 pow2i(__m256i j) {
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(j, _mm256_set1_epi32(127)), 23));
}

// Same algorithm and constants as the AVX-512 exp (see ops_avx512.cpp).
SMOL_AVX2 inline __m256 exp_ps(__m256 x) {
  const __m256 lo = _mm256_set1_ps(-104.0f), hi = _mm256_set1_ps(88.72283935546875f);
  const __m256 underflow = _mm256_cmp_ps(x, lo, _CMP_LT_OQ);
  const __m256 overflow = _mm256_cmp_ps(x, hi, _CMP_GT_OQ);
  x = _mm256_min_ps(hi, _mm256_max_ps(lo, x));  // operand order keeps NaN
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  const __m256 r2 = _mm256_mul_ps(r, r);
  p = _mm256_fmadd_ps(p, r2, _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  const __m256i j = _mm256_cvtps_epi32(n);
  const __m256i j1 = _mm256_srai_epi32(j, 1);
  const __m256i j2 = _mm256_sub_epi32(j, j1);
  __m256 y = _mm256_mul_ps(_mm256_mul_ps(p, pow2i(j1)), pow2i(j2));
  y = _mm256_blendv_ps(y, _mm256_setzero_ps(), underflow);
  return _mm256_blendv_ps(y, _mm256_set1_ps(INFINITY), overflow);
}

SMOL_AVX2 inline float hsum(__m256 v) {
  const __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 s2 = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(s2, _mm_movehdup_ps(s2)));
}

SMOL_AVX2 inline float hmax(__m256 v) {
  const __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 s2 = _mm_max_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_max_ss(s2, _mm_movehdup_ps(s2)));
}

// Loads n < 8 floats, zero padded.
SMOL_AVX2 inline __m256 load_tail(const float* x, int64_t n) {
  float buf[8] = {};
  std::memcpy(buf, x, static_cast<size_t>(n) * sizeof(float));
  return _mm256_loadu_ps(buf);
}

SMOL_AVX2 inline void store_tail(float* x, __m256 v, int64_t n) {
  float buf[8];
  _mm256_storeu_ps(buf, v);
  std::memcpy(x, buf, static_cast<size_t>(n) * sizeof(float));
}

SMOL_AVX2 void rms_norm_avx2(const float* x, const float* weight, float* out, int64_t n,
                             float eps) {
  __m256d acc0 = _mm256_setzero_pd(), acc1 = _mm256_setzero_pd();
  int64_t i = 0;
  for (; i < n; i += 8) {
    const __m256 v = i + 8 <= n ? _mm256_loadu_ps(x + i) : load_tail(x + i, n - i);
    const __m256 sq = _mm256_mul_ps(v, v);  // float squares, as the reference
    acc0 = _mm256_add_pd(acc0, _mm256_cvtps_pd(_mm256_castps256_ps128(sq)));
    acc1 = _mm256_add_pd(acc1, _mm256_cvtps_pd(_mm256_extractf128_ps(sq, 1)));
  }
  const __m256d a = _mm256_add_pd(acc0, acc1);
  const __m128d a2 = _mm_add_pd(_mm256_castpd256_pd128(a), _mm256_extractf128_pd(a, 1));
  const double sum = _mm_cvtsd_f64(_mm_add_sd(a2, _mm_unpackhi_pd(a2, a2)));
  const float mean = static_cast<float>(sum / static_cast<double>(n));
  const float s = 1.0f / std::sqrt(mean + eps);
  const __m256 scale = _mm256_set1_ps(s);
  for (i = 0; i + 8 <= n; i += 8) {
    const __m256 y = _mm256_mul_ps(_mm256_loadu_ps(x + i), scale);
    _mm256_storeu_ps(out + i, _mm256_mul_ps(y, _mm256_loadu_ps(weight + i)));
  }
  for (; i < n; ++i) out[i] = (x[i] * s) * weight[i];
}

SMOL_AVX2 float max_avx2(const float* x, int64_t n) {
  float m = x[0];
  int64_t i = 0;
  if (n >= 8) {
    __m256 vm = _mm256_loadu_ps(x);
    for (i = 8; i + 8 <= n; i += 8) vm = _mm256_max_ps(vm, _mm256_loadu_ps(x + i));
    m = hmax(vm);
  }
  for (; i < n; ++i) m = x[i] > m ? x[i] : m;
  return m;
}

SMOL_AVX2 float exp_sub_sum_avx2(float* x, int64_t n, float max) {
  const __m256 vm = _mm256_set1_ps(max);
  __m256 acc = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 e = exp_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i), vm));
    _mm256_storeu_ps(x + i, e);
    acc = _mm256_add_ps(acc, e);
  }
  if (i < n) {
    // Padding lanes hold -inf - max -> exp = 0, so they add nothing to the sum.
    float buf[8];
    for (int l = 0; l < 8; ++l) buf[l] = i + l < n ? x[i + l] : -INFINITY;
    const __m256 e = exp_ps(_mm256_sub_ps(_mm256_loadu_ps(buf), vm));
    store_tail(x + i, e, n - i);
    acc = _mm256_add_ps(acc, e);
  }
  return hsum(acc);
}

SMOL_AVX2 void softmax_avx2(float* x, int64_t n) {
  const float sum = exp_sub_sum_avx2(x, n, max_avx2(x, n));
  const float inv = 1.0f / sum;
  const __m256 vinv = _mm256_set1_ps(inv);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), vinv));
  for (; i < n; ++i) x[i] *= inv;
}

SMOL_AVX2 inline __m256 silu_mul8(__m256 g, __m256 u) {
  const __m256 e = exp_ps(_mm256_sub_ps(_mm256_setzero_ps(), g));
  return _mm256_mul_ps(_mm256_div_ps(g, _mm256_add_ps(_mm256_set1_ps(1.0f), e)), u);
}

SMOL_AVX2 void silu_mul_avx2(const float* gate, const float* up, float* out, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(out + i, silu_mul8(_mm256_loadu_ps(gate + i), _mm256_loadu_ps(up + i)));
  }
  if (i < n)
    store_tail(out + i, silu_mul8(load_tail(gate + i, n - i), load_tail(up + i, n - i)), n - i);
}

SMOL_AVX2 void add_avx2(const float* a, const float* b, float* out, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(out + i, _mm256_add_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i)));
  }
  for (; i < n; ++i) out[i] = a[i] + b[i];
}

SMOL_AVX2 void f32_to_f16_avx2(const float* x, uint16_t* out, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i),
                     _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
  }
  for (; i < n; ++i) out[i] = fp32_to_fp16(x[i]);
}

SMOL_AVX2 inline __m256 load_f16(const uint16_t* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

SMOL_AVX2 void f16_to_f32_avx2(const uint16_t* x, float* out, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, load_f16(x + i));
  for (; i < n; ++i) out[i] = fp16_to_fp32(x[i]);
}

// Lane i of the result = horizontal sum of v[i].
SMOL_AVX2 inline __m128 hsum4(__m256 a, __m256 b, __m256 c, __m256 d) {
  const __m256 h = _mm256_hadd_ps(_mm256_hadd_ps(a, b), _mm256_hadd_ps(c, d));
  return _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
}

template <int NR>
SMOL_AVX2 void scores_rows(const float* q, const uint16_t* k, int64_t n_k, int hd, float scale,
                           float* s, int64_t ld_s) {
  const __m128 vscale = _mm_set1_ps(scale);
  int64_t j = 0;
  for (; j + 4 <= n_k; j += 4) {
    __m256 acc[NR][4];
    for (int r = 0; r < NR; ++r)
      for (int jj = 0; jj < 4; ++jj) acc[r][jj] = _mm256_setzero_ps();
    const uint16_t* kj = k + j * hd;
    for (int d = 0; d < hd; d += 8) {
      __m256 kv[4];
      for (int jj = 0; jj < 4; ++jj) kv[jj] = load_f16(kj + jj * hd + d);
      for (int r = 0; r < NR; ++r) {
        const __m256 qv = _mm256_loadu_ps(q + r * hd + d);
        for (int jj = 0; jj < 4; ++jj) acc[r][jj] = _mm256_fmadd_ps(qv, kv[jj], acc[r][jj]);
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
      __m256 acc = _mm256_setzero_ps();
      for (int d = 0; d < hd; d += 8) {
        acc = _mm256_fmadd_ps(_mm256_loadu_ps(q + r * hd + d), load_f16(kj + d), acc);
      }
      s[r * ld_s + j] = hsum(acc) * scale;
    }
  }
}

SMOL_AVX2 void attn_scores_avx2(const float* q, int n_q, const uint16_t* k, int64_t n_k, int hd,
                                float scale, float* s, int64_t ld_s) {
  if (hd % 8 != 0) return scalar_table().attn_scores(q, n_q, k, n_k, hd, scale, s, ld_s);
  int r = 0;
  for (; r + 2 <= n_q; r += 2) scores_rows<2>(q + r * hd, k, n_k, hd, scale, s + r * ld_s, ld_s);
  if (r < n_q) scores_rows<1>(q + r * hd, k, n_k, hd, scale, s + r * ld_s, ld_s);
}

template <int NR>
SMOL_AVX2 void accum_rows(const float* p, int64_t ld_p, const uint16_t* v, int64_t n_k, int hd,
                          float* out) {
  int64_t j = 0;
  for (; j + 4 <= n_k; j += 4) {
    __m256 pb[NR][4];
    for (int r = 0; r < NR; ++r)
      for (int jj = 0; jj < 4; ++jj) pb[r][jj] = _mm256_set1_ps(p[r * ld_p + j + jj]);
    const uint16_t* vj = v + j * hd;
    for (int d = 0; d < hd; d += 8) {
      __m256 vv[4];
      for (int jj = 0; jj < 4; ++jj) vv[jj] = load_f16(vj + jj * hd + d);
      for (int r = 0; r < NR; ++r) {
        __m256 o = _mm256_loadu_ps(out + r * hd + d);
        for (int jj = 0; jj < 4; ++jj) o = _mm256_fmadd_ps(pb[r][jj], vv[jj], o);
        _mm256_storeu_ps(out + r * hd + d, o);
      }
    }
  }
  for (; j < n_k; ++j) {
    const uint16_t* vj = v + j * hd;
    for (int r = 0; r < NR; ++r) {
      const __m256 pj = _mm256_set1_ps(p[r * ld_p + j]);
      for (int d = 0; d < hd; d += 8) {
        _mm256_storeu_ps(out + r * hd + d,
                         _mm256_fmadd_ps(pj, load_f16(vj + d), _mm256_loadu_ps(out + r * hd + d)));
      }
    }
  }
}

SMOL_AVX2 void attn_accum_avx2(const float* p, int n_q, int64_t ld_p, const uint16_t* v,
                               int64_t n_k, int hd, float* out) {
  if (hd % 8 != 0) return scalar_table().attn_accum(p, n_q, ld_p, v, n_k, hd, out);
  int r = 0;
  for (; r + 2 <= n_q; r += 2) accum_rows<2>(p + r * ld_p, ld_p, v, n_k, hd, out + r * hd);
  if (r < n_q) accum_rows<1>(p + r * ld_p, ld_p, v, n_k, hd, out + r * hd);
}

}  // namespace

const OpsTable& avx2_table() {
  static const OpsTable table = {
      rms_norm_avx2,   softmax_avx2,     silu_mul_avx2, add_avx2,         f32_to_f16_avx2,
      f16_to_f32_avx2, exp_sub_sum_avx2, max_avx2,      attn_scores_avx2, attn_accum_avx2,
  };
  return table;
}

}  // namespace smol::kernels::ops_detail
