// Public entry points of smol/ops.h: tier dispatch, RoPE, KV-cache stores. Attention lives in
// ops_attention.cpp.
#include "smol/ops.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "ops_internal.h"
#include "smol/kernels.h"
#include "smol/result.h"

namespace smol::kernels {
namespace {

const ops_detail::OpsTable& table_for(Isa isa) {
  switch (isa) {
    case Isa::kAvx512:
      return ops_detail::avx512_table();
    case Isa::kAvx2:
      return ops_detail::avx2_table();
    case Isa::kScalar:
      break;
  }
  return ops_detail::scalar_table();
}

// Largest head_dim RoPE supports (its cos/sin table lives on the stack).
constexpr int kMaxRopeHeadDim = 1024;

// cos/sin of theta_i for one position, built exactly as ggml's rope cache (see ops.h).
void rope_angles(int64_t pos, int head_dim, float freq_base, float* cos_out, float* sin_out) {
  const float theta_scale = std::pow(freq_base, -2.0f / static_cast<float>(head_dim));
  float theta = static_cast<float>(pos);
  for (int i = 0; i < head_dim / 2; ++i) {
    cos_out[i] = std::cos(theta);
    sin_out[i] = std::sin(theta);
    theta *= theta_scale;
  }
}

void rope_rotate(float* x, int n_heads, int head_dim, const float* c, const float* s) {
  for (int h = 0; h < n_heads; ++h) {
    float* xh = x + static_cast<int64_t>(h) * head_dim;
    for (int i = 0; i < head_dim / 2; ++i) {
      const float x0 = xh[2 * i], x1 = xh[2 * i + 1];
      xh[2 * i] = x0 * c[i] - x1 * s[i];
      xh[2 * i + 1] = x0 * s[i] + x1 * c[i];
    }
  }
}

}  // namespace

namespace ops_detail {
// Follows the quant kernels' tier (smol/kernels.h), so SMOL_ISA and set_isa() switch both.
const OpsTable& active_table() { return table_for(active_isa()); }
}  // namespace ops_detail

void rms_norm(const float* x, const float* weight, float* out, int64_t n, float eps) {
  SMOL_CHECK(n > 0, "rms_norm: empty row");
  ops_detail::active_table().rms_norm(x, weight, out, n, eps);
}

void rms_norm_rows(const float* x, const float* weight, float* out, int64_t n_rows, int64_t n,
                   float eps) {
  SMOL_CHECK(n > 0 && n_rows >= 0, "rms_norm_rows: bad shape");
  const auto& t = ops_detail::active_table();
#pragma omp parallel for num_threads(num_threads()) schedule(static) if (n_rows >= 16)
  for (int64_t r = 0; r < n_rows; ++r) t.rms_norm(x + r * n, weight, out + r * n, n, eps);
}

void rope_norm(float* x, int n_heads, int head_dim, int64_t pos, float freq_base) {
  rope_norm_tokens(x, 1, n_heads, head_dim, &pos, freq_base);
}

void rope_norm_tokens(float* x, int n_tokens, int n_heads, int head_dim, const int64_t* pos,
                      float freq_base) {
  SMOL_CHECK(head_dim > 0 && head_dim % 2 == 0 && head_dim <= kMaxRopeHeadDim,
             "rope_norm: head_dim must be even and <= 1024");
  SMOL_CHECK(n_tokens >= 0 && n_heads >= 0, "rope_norm: bad shape");
  const int64_t token_stride = static_cast<int64_t>(n_heads) * head_dim;
#pragma omp parallel for num_threads(num_threads()) schedule(static) if (n_tokens >= 8)
  for (int t = 0; t < n_tokens; ++t) {
    std::array<float, kMaxRopeHeadDim / 2> c, s;
    rope_angles(pos[t], head_dim, freq_base, c.data(), s.data());
    rope_rotate(x + t * token_stride, n_heads, head_dim, c.data(), s.data());
  }
}

void softmax(float* x, int64_t n) {
  SMOL_CHECK(n > 0, "softmax: empty row");
  ops_detail::active_table().softmax(x, n);
}

namespace {
// Splits an element-wise op over the threads once it is large (a prefill's n_tokens x n_ff SiLU
// is 5.6M elements: serial, it was a fixed cost that more threads could not shrink). Chunks are a
// multiple of every SIMD width, so only the last one has a tail and every element is computed
// exactly as in one call.
template <class Op>
void elementwise_chunks(int64_t n, const Op& op) {
  constexpr int64_t kChunk = 16384;
  const int threads = num_threads();
  if (threads == 1 || n < 2 * kChunk) {
    op(0, n);
    return;
  }
  const int64_t n_chunks = (n + kChunk - 1) / kChunk;
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t c = 0; c < n_chunks; ++c) op(c * kChunk, std::min(kChunk, n - c * kChunk));
}
}  // namespace

void silu_mul(const float* gate, const float* up, float* out, int64_t n) {
  const auto& t = ops_detail::active_table();
  elementwise_chunks(n,
                     [&](int64_t i, int64_t len) { t.silu_mul(gate + i, up + i, out + i, len); });
}

void add(const float* a, const float* b, float* out, int64_t n) {
  const auto& t = ops_detail::active_table();
  elementwise_chunks(n, [&](int64_t i, int64_t len) { t.add(a + i, b + i, out + i, len); });
}

void f32_to_f16_row(const float* x, uint16_t* out, int64_t n) {
  ops_detail::active_table().f32_to_f16(x, out, n);
}

void f16_to_f32_row(const uint16_t* x, float* out, int64_t n) {
  ops_detail::active_table().f16_to_f32(x, out, n);
}

void kv_store(const KvCacheView& cache, int64_t pos, const float* k, const float* v) {
  kv_store_tokens(cache, pos, 1, k, v);
}

void kv_store_tokens(const KvCacheView& cache, int64_t pos0, int n_tokens, const float* k,
                     const float* v) {
  SMOL_CHECK(cache.k && cache.v && cache.n_head_kv > 0 && cache.head_dim > 0,
             "kv_store: empty cache view");
  SMOL_CHECK(pos0 >= 0 && n_tokens >= 0 && pos0 + n_tokens <= cache.n_ctx,
             "kv_store: positions outside the cache");
  const auto& t = ops_detail::active_table();
  const int hd = cache.head_dim;
  for (int i = 0; i < n_tokens; ++i) {
    for (int g = 0; g < cache.n_head_kv; ++g) {
      const int64_t src = (static_cast<int64_t>(i) * cache.n_head_kv + g) * hd;
      const size_t dst = cache.offset(g, pos0 + i);
      t.f32_to_f16(k + src, cache.k + dst, hd);
      t.f32_to_f16(v + src, cache.v + dst, hd);
    }
  }
}

}  // namespace smol::kernels
