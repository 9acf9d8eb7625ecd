// Scalar tier of the f32 ops: the executable spec the SIMD tiers are tested against.
// Numerics follow llama.cpp's CPU ops where the header says so (double sums in rms_norm and
// softmax, float squares, separate roundings).
#include <cmath>

#include "ops_internal.h"
#include "smol/fp16.h"

namespace smol::kernels::ops_detail {
namespace {

void rms_norm_scalar(const float* x, const float* weight, float* out, int64_t n, float eps) {
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(x[i] * x[i]);
  const float mean = static_cast<float>(sum / static_cast<double>(n));
  const float scale = 1.0f / std::sqrt(mean + eps);
  for (int64_t i = 0; i < n; ++i) out[i] = (x[i] * scale) * weight[i];
}

float max_scalar(const float* x, int64_t n) {
  float m = x[0];
  for (int64_t i = 1; i < n; ++i) m = x[i] > m ? x[i] : m;
  return m;
}

float exp_sub_sum_scalar(float* x, int64_t n, float max) {
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - max);
    sum += x[i];
  }
  return static_cast<float>(sum);
}

void softmax_scalar(float* x, int64_t n) {
  const float m = max_scalar(x, n);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - m);
    sum += x[i];
  }
  const float inv = static_cast<float>(1.0 / sum);
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

void silu_mul_scalar(const float* gate, const float* up, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float g = gate[i];
    out[i] = g / (1.0f + std::exp(-g)) * up[i];
  }
}

void add_scalar(const float* a, const float* b, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = a[i] + b[i];
}

void f32_to_f16_scalar(const float* x, uint16_t* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = fp32_to_fp16(x[i]);
}

void f16_to_f32_scalar(const uint16_t* x, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = fp16_to_fp32(x[i]);
}

void attn_scores_scalar(const float* q, int n_q, const uint16_t* k, int64_t n_k, int hd,
                        float scale, float* s, int64_t ld_s) {
  for (int64_t j = 0; j < n_k; ++j) {
    const uint16_t* kj = k + j * hd;
    for (int r = 0; r < n_q; ++r) {
      const float* qr = q + static_cast<int64_t>(r) * hd;
      float dot = 0.0f;
      for (int d = 0; d < hd; ++d) dot += qr[d] * fp16_to_fp32(kj[d]);
      s[r * ld_s + j] = dot * scale;
    }
  }
}

void attn_accum_scalar(const float* p, int n_q, int64_t ld_p, const uint16_t* v, int64_t n_k,
                       int hd, float* out) {
  for (int64_t j = 0; j < n_k; ++j) {
    const uint16_t* vj = v + j * hd;
    for (int r = 0; r < n_q; ++r) {
      const float pj = p[r * ld_p + j];
      float* o = out + static_cast<int64_t>(r) * hd;
      for (int d = 0; d < hd; ++d) o[d] += pj * fp16_to_fp32(vj[d]);
    }
  }
}

}  // namespace

const OpsTable& scalar_table() {
  static const OpsTable table = {
      rms_norm_scalar,   softmax_scalar,     silu_mul_scalar, add_scalar,         f32_to_f16_scalar,
      f16_to_f32_scalar, exp_sub_sum_scalar, max_scalar,      attn_scores_scalar, attn_accum_scalar,
  };
  return table;
}

}  // namespace smol::kernels::ops_detail
