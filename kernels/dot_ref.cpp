// Scalar tier: the executable spec of every dot product. Integer sums are exact; each block adds
// one float term (two for Q4_K), in block order, so the SIMD tiers differ only in float rounding.
#include "block_io.h"
#include "kernel_table.h"

namespace smol::kernels::detail {

namespace {

// Σ_blocks  d_w·d_a·Σ_s sc_s·Σ_{t∈s} q_t·a_t  −  dmin_w·d_a·Σ_s m_s·(bsums[2s] + bsums[2s+1]).
float dot_q4_K_ref(int64_t n, const void* wv, const void* av) {
  const auto* w = static_cast<const uint8_t*>(wv);
  const auto* a = static_cast<const uint8_t*>(av);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK; ++i, w += q4k::kBytes, a += q8k::kBytes) {
    const Q4KScales s = unpack_q4_K_scales(w + q4k::kScales);
    const uint8_t* qs = w + q4k::kQs;
    const auto* q8 = reinterpret_cast<const int8_t*>(a + q8k::kQs);
    int32_t isum = 0, msum = 0;
    for (int sub = 0; sub < 8; ++sub) {
      const int c = sub / 2, shift = (sub % 2) * 4;
      int32_t part = 0;
      for (int t = 0; t < 32; ++t) part += ((qs[32 * c + t] >> shift) & 0x0f) * q8[32 * sub + t];
      isum += q4k_byte(s.sc, sub) * part;
      msum += q4k_byte(s.m, sub) *
              (load_i16(a + q8k::kBsums + 4 * sub) + load_i16(a + q8k::kBsums + 4 * sub + 2));
    }
    const float da = load_f32(a + q8k::kD);
    sum += load_fp16(w + q4k::kD) * da * static_cast<float>(isum) -
           load_fp16(w + q4k::kDmin) * da * static_cast<float>(msum);
  }
  return sum;
}

// Σ_blocks d_w·d_a·Σ_g scales_g·Σ_{t∈g} (q6_t − 32)·a_t.
float dot_q6_K_ref(int64_t n, const void* wv, const void* av) {
  const auto* w = static_cast<const uint8_t*>(wv);
  const auto* a = static_cast<const uint8_t*>(av);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK; ++i, w += q6k::kBytes, a += q8k::kBytes) {
    const uint8_t* ql = w + q6k::kQl;
    const uint8_t* qh = w + q6k::kQh;
    const auto* sc = reinterpret_cast<const int8_t*>(w + q6k::kScales);
    const auto* q8 = reinterpret_cast<const int8_t*>(a + q8k::kQs);
    int32_t isum = 0;
    for (int g = 0; g < 16; ++g) {
      int32_t part = 0;
      for (int k = 0; k < 16; ++k) {
        const int e = 16 * g + k;
        const int h = e / 128, j = e % 128, l = j % 32, quarter = j / 32;
        const uint8_t low = ql[64 * h + l + (quarter & 1) * 32];
        const int nib = quarter < 2 ? (low & 0x0f) : (low >> 4);
        const int q6 = nib | (((qh[32 * h + l] >> (2 * quarter)) & 3) << 4);
        part += (q6 - 32) * q8[e];
      }
      isum += sc[g] * part;
    }
    sum += load_fp16(w + q6k::kD) * load_f32(a + q8k::kD) * static_cast<float>(isum);
  }
  return sum;
}

float dot_q8_0_ref(int64_t n, const void* wv, const void* av) {
  const auto* w = static_cast<const uint8_t*>(wv);
  const auto* a = static_cast<const uint8_t*>(av);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK8_0; ++i, w += q80::kBytes, a += q80::kBytes) {
    const auto* qw = reinterpret_cast<const int8_t*>(w + q80::kQs);
    const auto* qa = reinterpret_cast<const int8_t*>(a + q80::kQs);
    int32_t isum = 0;
    for (int t = 0; t < kQK8_0; ++t) isum += qw[t] * qa[t];
    sum += static_cast<float>(isum) * (load_fp16(w + q80::kD) * load_fp16(a + q80::kD));
  }
  return sum;
}

float dot_f16_ref(int64_t n, const uint16_t* w, const float* x) {
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i) {
    sum += load_fp16(reinterpret_cast<const uint8_t*>(w) + 2 * i) * x[i];
  }
  return sum;
}

float dot_f32_ref(int64_t n, const float* w, const float* x) {
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i) sum += w[i] * x[i];
  return sum;
}

float dot_f16_bytes(int64_t n, const void* w, const void* x) {
  return dot_f16_ref(n, static_cast<const uint16_t*>(w), static_cast<const float*>(x));
}
float dot_f32_bytes(int64_t n, const void* w, const void* x) {
  return dot_f32_ref(n, static_cast<const float*>(w), static_cast<const float*>(x));
}

template <float (*Dot)(int64_t, const void*, const void*)>
void gemm_ref(const uint8_t* w, int64_t w_stride, const uint8_t* x, int64_t x_stride, int64_t n,
              float* y, int64_t y_stride, int64_t r0, int64_t r1, int64_t t0, int64_t t1) {
  gemm_by_rows(Dot, w, w_stride, x, x_stride, n, y, y_stride, r0, r1, t0, t1);
}

}  // namespace

const KernelTable& scalar_kernels() {
  static const KernelTable table = {
      Isa::kScalar,
      quantize_row_q8_K_ref,
      dot_q4_K_ref,
      dot_q6_K_ref,
      dot_q8_0_ref,
      dot_f16_ref,
      dot_f32_ref,
      gemm_ref<dot_q4_K_ref>,
      gemm_ref<dot_q6_K_ref>,
      gemm_ref<dot_q8_0_ref>,
      gemm_ref<dot_f16_bytes>,
      gemm_ref<dot_f32_bytes>,
      false,
      nullptr,
      0,
  };
  return table;
}

}  // namespace smol::kernels::detail
