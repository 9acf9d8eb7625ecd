// Shared helpers of the kernel tests: seeded data, misaligned copies, ISA scoping, and the
// error bounds of the quantized dot products (derived from the block scales).
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "smol/fp16.h"
#include "smol/kernels.h"

namespace smol::kernels::testing {

inline constexpr double kU = 1.0 / 16777216.0;  // unit roundoff of f32 (2^-24)

inline std::vector<float> random_floats(std::mt19937& rng, int64_t n, float scale = 1.0f) {
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& f : v) f = dist(rng);
  return v;
}

inline std::vector<uint8_t> random_bytes(std::mt19937& rng, size_t n) {
  std::uniform_int_distribution<int> dist(0, 255);
  std::vector<uint8_t> v(n);
  for (uint8_t& b : v) b = static_cast<uint8_t>(dist(rng));
  return v;
}

// A copy of `src` placed `offset` bytes past a 64-byte boundary (offset 1..63 = misaligned).
class Misaligned {
 public:
  Misaligned(const void* src, size_t bytes, size_t offset) : buf_(bytes + 128), offset_(offset) {
    const auto base = reinterpret_cast<uintptr_t>(buf_.data());
    start_ = static_cast<size_t>((64 - base % 64) % 64) + offset_;
    std::memcpy(buf_.data() + start_, src, bytes);
  }
  const void* get() const { return buf_.data() + start_; }

 private:
  std::vector<uint8_t> buf_;
  size_t offset_;
  size_t start_ = 0;
};

// Forces an ISA tier for the scope of a test and restores the previous one.
class IsaScope {
 public:
  explicit IsaScope(Isa isa) : previous_(active_isa()) { ok_ = set_isa(isa).ok(); }
  ~IsaScope() { (void)set_isa(previous_); }
  bool ok() const { return ok_; }

 private:
  Isa previous_;
  bool ok_ = false;
};

inline std::vector<Isa> fast_isas() { return {Isa::kAvx2, Isa::kAvx512}; }

// Q8_K activations (scalar reference quantizer) for x.
inline std::vector<uint8_t> q8_K_of(const std::vector<float>& x) {
  IsaScope scalar(Isa::kScalar);
  std::vector<uint8_t> out(static_cast<size_t>(row_bytes(QuantType::kQ8_K, x.size())));
  quantize_row_q8_K(x.data(), out.data(), static_cast<int64_t>(x.size()));
  return out;
}

// n_blocks Q4_K or Q6_K blocks with every quant, scale and min byte 0xff (each quant at its
// maximum) and d = dmin = 0.001: the largest integer partial sums a kernel can meet.
inline std::vector<uint8_t> max_quant_blocks(QuantType type, int64_t n_blocks) {
  const int64_t bb = block_bytes(type);
  std::vector<uint8_t> w(static_cast<size_t>(bb * n_blocks), 0xff);
  const uint16_t d = fp32_to_fp16(0.001f);
  for (int64_t b = 0; b < n_blocks; ++b) {
    uint8_t* p = w.data() + b * bb;
    if (type == QuantType::kQ6_K) {
      std::memcpy(p + 208, &d, 2);
    } else {
      std::memcpy(p, &d, 2);
      std::memcpy(p + 2, &d, 2);
    }
  }
  return w;
}

inline float f16(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return fp16_to_fp32(h);
}

// Σ over blocks of the magnitudes of every integer term the kernels sum, times its scale:
// the quantity float rounding errors are proportional to.
inline double dot_magnitude(QuantType type, int64_t n, const uint8_t* w, const uint8_t* a) {
  double total = 0.0;
  if (type == QuantType::kQ8_0) {
    for (int64_t b = 0; b < n / 32; ++b, w += 34, a += 34) {
      double s = 0.0;
      for (int t = 0; t < 32; ++t) {
        s += std::abs(static_cast<int8_t>(w[2 + t])) * std::abs(static_cast<int8_t>(a[2 + t]));
      }
      total += std::fabs(static_cast<double>(f16(w)) * f16(a)) * s;
    }
    return total;
  }
  std::vector<float> deq(kQK);
  for (int64_t b = 0; b < n / kQK; ++b) {
    const uint8_t* wb = w + b * block_bytes(type);
    const uint8_t* ab = a + b * sizeof(BlockQ8K);
    float da;
    std::memcpy(&da, ab, 4);
    const auto* q8 = reinterpret_cast<const int8_t*>(ab + 4);
    if (type == QuantType::kQ4_K) {
      // |d·sc·q·a| summed, plus |dmin·m·bsum| summed: bounded by the dequantized magnitudes.
      // Decode d·sc·q (dmin zeroed) and −dmin·m (d zeroed) separately through the library.
      std::vector<uint8_t> only_scale(wb, wb + 144), only_min(wb, wb + 144);
      uint16_t zero = 0;
      std::memcpy(only_scale.data() + 2, &zero, 2);  // dmin = 0 -> d·sc·q
      std::memcpy(only_min.data(), &zero, 2);        // d = 0 -> -dmin·m
      std::vector<float> pos(kQK), neg(kQK);
      dequantize_row(QuantType::kQ4_K, only_scale.data(), pos.data(), kQK);
      dequantize_row(QuantType::kQ4_K, only_min.data(), neg.data(), kQK);
      for (int t = 0; t < kQK; ++t) {
        total += (std::fabs(pos[t]) + std::fabs(neg[t])) * std::fabs(da * q8[t]);
      }
    } else {  // Q6_K: |d·sc·(q−32)·a|
      dequantize_row(type, wb, deq.data(), kQK);
      for (int t = 0; t < kQK; ++t) total += std::fabs(deq[t]) * std::fabs(da * q8[t]);
    }
  }
  return total;
}

// Bound on |tier − exact| for a quantized dot of n elements: each block term is formed with a
// few roundings and then up to nb + 16 terms are summed (lanes, blocks).
inline double dot_tolerance(QuantType type, int64_t n, const uint8_t* w, const uint8_t* a) {
  const int64_t nb = n / block_elems(type);
  return static_cast<double>(nb + 32) * 2.0 * kU * dot_magnitude(type, n, w, a) + 1e-30;
}

}  // namespace smol::kernels::testing
