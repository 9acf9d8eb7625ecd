// Shared by the kernel benchmarks (matmul_bench, decode_stream_bench): weight blocks of random
// bytes, and the read loop behind every bandwidth probe.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>
#include <random>

#include "smol/fp16.h"
#include "smol/kernels.h"

namespace smol::kernels::bench {

// rows × cols weights of `type` at w, random bytes with a sane fp16 scale in every block: speed
// does not depend on the values, and random bytes are much faster to make than quantizing the
// 262M floats of the vocab matrix. F32 gets small finite values.
inline void fill_random_blocks(uint8_t* w, QuantType type, int64_t rows, int64_t cols,
                               uint64_t seed) {
  const int64_t rb = row_bytes(type, cols);
  const size_t size = static_cast<size_t>(rb * rows);
  std::mt19937_64 rng(seed);
  for (size_t i = 0; i + 8 <= size; i += 8) {
    const uint64_t v = rng();
    std::memcpy(w + i, &v, 8);
  }
  const int64_t bb = block_bytes(type), nblocks = rows * rb / bb;
  const uint16_t d = fp32_to_fp16(0.001f);
  for (int64_t b = 0; b < nblocks; ++b) {
    uint8_t* p = w + b * bb;
    switch (type) {
      case QuantType::kQ4_K:
        std::memcpy(p, &d, 2), std::memcpy(p + 2, &d, 2);
        break;
      case QuantType::kQ6_K:
        std::memcpy(p + 208, &d, 2);
        break;
      case QuantType::kQ8_0:
      case QuantType::kF16:
        std::memcpy(p, &d, 2);
        break;
      default:
        break;
    }
  }
  if (type == QuantType::kF32) {
    for (int64_t i = 0; i < rows * cols; ++i) {
      const float f = 0.001f * static_cast<float>(i % 17);
      std::memcpy(w + 4 * i, &f, 4);
    }
  }
}

// Sum of the n bytes at p as 64-bit words (a trailing partial word byte by byte), with 4
// independent AVX2 accumulators so the loop is never the limit.
__attribute__((target("avx2"))) inline uint64_t sum_bytes_avx2(const uint8_t* p, size_t n) {
  __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
  size_t i = 0;
  for (; i + 128 <= n; i += 128) {
    a0 = _mm256_add_epi64(a0, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i)));
    a1 = _mm256_add_epi64(a1, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + 32)));
    a2 = _mm256_add_epi64(a2, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + 64)));
    a3 = _mm256_add_epi64(a3, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + 96)));
  }
  alignas(32) uint64_t lanes[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes),
                     _mm256_add_epi64(_mm256_add_epi64(a0, a1), _mm256_add_epi64(a2, a3)));
  uint64_t s = lanes[0] + lanes[1] + lanes[2] + lanes[3];
  for (; i < n; ++i) s += p[i];
  return s;
}

inline uint64_t sum_bytes(const uint8_t* p, size_t n) {
  if (__builtin_cpu_supports("avx2")) return sum_bytes_avx2(p, n);
  uint64_t s = 0;
  for (size_t i = 0; i + 8 <= n; i += 8) {
    uint64_t v;
    std::memcpy(&v, p + i, 8);
    s += v;
  }
  for (size_t i = n / 8 * 8; i < n; ++i) s += p[i];
  return s;
}

}  // namespace smol::kernels::bench
