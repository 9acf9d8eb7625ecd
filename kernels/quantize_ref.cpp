// Reference quantizers (f32 -> blocks).
//
// Q8_K follows llama.cpp bit for bit: it quantizes activations, and matching it is what makes our
// integer dot products equal llama.cpp's. Q4_K / Q6_K / Q8_0 are for writing synthetic weights:
// they choose scales that cover each sub-block's range, so every element is off by at most half
// a quantization step (the bound tests/kernels check), not ggml's iterative search.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "block_io.h"
#include "kernel_table.h"
#include "smol/kernels.h"

namespace smol::kernels {

using namespace detail;

namespace {

// Smallest fp16 whose value is >= v (v >= 0), saturating at the largest finite fp16.
uint16_t fp16_at_least(float v) {
  if (!(v < 65504.0f)) return 0x7bff;
  uint16_t h = fp32_to_fp16(v);
  if (fp16_to_fp32(h) < v) ++h;  // positive halves order like their bit patterns
  return h;
}

// ceil(need / unit) clamped to [0, top]; 0 when unit is 0.
int scale_steps(float need, float unit, int top) {
  if (unit <= 0.0f || need <= 0.0f) return 0;
  return std::min(top, static_cast<int>(std::ceil(need / unit)));
}

void store_u16(uint8_t* p, uint16_t v) { std::memcpy(p, &v, 2); }

}  // namespace

void quantize_row_q4_K(const float* x, void* y, int64_t n) {
  SMOL_CHECK(n % kQK == 0, "Q4_K row length must be a multiple of 256");
  auto* b = static_cast<uint8_t*>(y);
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK, b += q4k::kBytes) {
    // Sub-block s covers [lo_s, hi_s] with lo_s <= 0 <= ... the format's offset -dmin*m is <= 0.
    float off[8], top[8], max_off = 0.0f;
    for (int s = 0; s < 8; ++s) {
      float lo = 0.0f, hi = -INFINITY;
      for (int t = 0; t < 32; ++t) {
        lo = std::min(lo, x[32 * s + t]);
        hi = std::max(hi, x[32 * s + t]);
      }
      off[s] = -lo;
      top[s] = hi;
      max_off = std::max(max_off, off[s]);
    }
    // Round the super-scales UP so every sub-block's 6-bit scale/min can still cover its range.
    const uint16_t dmin_h = fp16_at_least(max_off / 63.0f);
    const float dmin = fp16_to_fp32(dmin_h);
    int m[8], sc[8];
    float offset[8], need[8], max_need = 0.0f;
    for (int s = 0; s < 8; ++s) {
      m[s] = scale_steps(off[s], dmin, 63);
      offset[s] = dmin * static_cast<float>(m[s]);
      need[s] = std::max(0.0f, top[s] + offset[s]) / 15.0f;
      max_need = std::max(max_need, need[s]);
    }
    const uint16_t d_h = fp16_at_least(max_need / 63.0f);
    const float d = fp16_to_fp32(d_h);
    for (int s = 0; s < 8; ++s) sc[s] = scale_steps(need[s], d, 63);

    store_u16(b + q4k::kD, d_h);
    store_u16(b + q4k::kDmin, dmin_h);
    uint8_t* S = b + q4k::kScales;
    for (int s = 0; s < 4; ++s) {
      S[s] = static_cast<uint8_t>(sc[s] | ((sc[s + 4] >> 4) << 6));
      S[s + 4] = static_cast<uint8_t>(m[s] | ((m[s + 4] >> 4) << 6));
      S[s + 8] = static_cast<uint8_t>((sc[s + 4] & 0x0f) | ((m[s + 4] & 0x0f) << 4));
    }
    uint8_t q[kQK];
    for (int e = 0; e < kQK; ++e) {
      const int s = e / 32;
      const float step = d * static_cast<float>(sc[s]);
      const float v = step > 0.0f ? std::nearbyint((x[e] + offset[s]) / step) : 0.0f;
      q[e] = static_cast<uint8_t>(std::clamp(v, 0.0f, 15.0f));
    }
    uint8_t* qs = b + q4k::kQs;
    for (int c = 0; c < 4; ++c) {
      for (int t = 0; t < 32; ++t) {
        qs[32 * c + t] = static_cast<uint8_t>(q[64 * c + t] | (q[64 * c + 32 + t] << 4));
      }
    }
  }
}

void quantize_row_q6_K(const float* x, void* y, int64_t n) {
  SMOL_CHECK(n % kQK == 0, "Q6_K row length must be a multiple of 256");
  auto* b = static_cast<uint8_t*>(y);
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK, b += q6k::kBytes) {
    // q6 - 32 spans -32..31: group g needs step >= max(-min/32, max/31).
    float need[16], max_need = 0.0f;
    for (int g = 0; g < 16; ++g) {
      float neg = 0.0f, pos = 0.0f;
      for (int t = 0; t < 16; ++t) {
        neg = std::max(neg, -x[16 * g + t]);
        pos = std::max(pos, x[16 * g + t]);
      }
      need[g] = std::max(neg / 32.0f, pos / 31.0f);
      max_need = std::max(max_need, need[g]);
    }
    const uint16_t d_h = fp16_at_least(max_need / 127.0f);
    const float d = fp16_to_fp32(d_h);
    int sc[16];
    for (int g = 0; g < 16; ++g) sc[g] = scale_steps(need[g], d, 127);

    std::memset(b, 0, q6k::kBytes);
    uint8_t* ql = b + q6k::kQl;
    uint8_t* qh = b + q6k::kQh;
    for (int g = 0; g < 16; ++g) b[q6k::kScales + g] = static_cast<uint8_t>(sc[g]);
    store_u16(b + q6k::kD, d_h);
    for (int e = 0; e < kQK; ++e) {
      const float step = d * static_cast<float>(sc[e / 16]);
      const float v = step > 0.0f ? std::nearbyint(x[e] / step) : 0.0f;
      const int q6 = static_cast<int>(std::clamp(v, -32.0f, 31.0f)) + 32;
      const int h = e / 128, j = e % 128, l = j % 32, quarter = j / 32;
      ql[64 * h + l + (quarter & 1) * 32] |=
          static_cast<uint8_t>((q6 & 0x0f) << (quarter < 2 ? 0 : 4));
      qh[32 * h + l] |= static_cast<uint8_t>((q6 >> 4) << (2 * quarter));
    }
  }
}

void quantize_row_q8_0(const float* x, void* y, int64_t n) {
  SMOL_CHECK(n % kQK8_0 == 0, "Q8_0 row length must be a multiple of 32");
  auto* b = static_cast<uint8_t*>(y);
  for (int64_t i = 0; i < n / kQK8_0; ++i, x += kQK8_0, b += q80::kBytes) {
    // As ggml's reference: scale from the f32 d, round half away from zero, store fp16(d).
    float amax = 0.0f;
    for (int e = 0; e < kQK8_0; ++e) amax = std::max(amax, std::fabs(x[e]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    store_u16(b + q80::kD, fp32_to_fp16(d));
    for (int e = 0; e < kQK8_0; ++e) {
      const float q = std::clamp(std::round(x[e] * id), -127.0f, 127.0f);  // clamp: id may be inf
      b[q80::kQs + e] = static_cast<uint8_t>(static_cast<int8_t>(q));
    }
  }
}

namespace detail {

void quantize_row_q8_K_ref(const float* x, void* y, int64_t n) {
  SMOL_CHECK(n % kQK == 0, "Q8_K row length must be a multiple of 256");
  auto* b = static_cast<uint8_t*>(y);
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK, b += q8k::kBytes) {
    // The largest |x| keeps its sign (the first one wins a tie), so d = max/-127 has the
    // opposite sign to it.
    float amax = 0.0f, max = 0.0f;
    for (int e = 0; e < kQK; ++e) {
      const float ax = std::fabs(x[e]);
      if (ax > amax) {
        amax = ax;
        max = x[e];
      }
    }
    if (amax == 0.0f) {
      std::memset(b, 0, q8k::kBytes);
      continue;
    }
    const float iscale = -127.0f / max;
    auto* qs = reinterpret_cast<int8_t*>(b + q8k::kQs);
    for (int e = 0; e < kQK; ++e) {
      // nearbyint in the default mode rounds half to even, like ggml's nearest_int.
      const int v = static_cast<int>(std::nearbyint(iscale * x[e]));
      qs[e] = static_cast<int8_t>(std::min(127, v));
    }
    for (int j = 0; j < 16; ++j) {
      int16_t sum = 0;
      for (int t = 0; t < 16; ++t) sum = static_cast<int16_t>(sum + qs[16 * j + t]);
      std::memcpy(b + q8k::kBsums + 2 * j, &sum, 2);
    }
    const float d = 1.0f / iscale;
    std::memcpy(b + q8k::kD, &d, 4);
  }
}

}  // namespace detail
}  // namespace smol::kernels
