// Private: byte offsets of the block layouts and unaligned scalar loads. Kernels address blocks
// through `const uint8_t*` plus these offsets, never through a BlockX* (GGUF packs 210-byte Q6_K
// blocks back to back, and callers may pass any alignment).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "smol/fp16.h"
#include "smol/kernels.h"

namespace smol::kernels::detail {

namespace q4k {
inline constexpr size_t kD = offsetof(BlockQ4K, d);
inline constexpr size_t kDmin = offsetof(BlockQ4K, dmin);
inline constexpr size_t kScales = offsetof(BlockQ4K, scales);
inline constexpr size_t kQs = offsetof(BlockQ4K, qs);
inline constexpr size_t kBytes = sizeof(BlockQ4K);
}  // namespace q4k

namespace q6k {
inline constexpr size_t kQl = offsetof(BlockQ6K, ql);
inline constexpr size_t kQh = offsetof(BlockQ6K, qh);
inline constexpr size_t kScales = offsetof(BlockQ6K, scales);
inline constexpr size_t kD = offsetof(BlockQ6K, d);
inline constexpr size_t kBytes = sizeof(BlockQ6K);
}  // namespace q6k

namespace q80 {
inline constexpr size_t kD = offsetof(BlockQ80, d);
inline constexpr size_t kQs = offsetof(BlockQ80, qs);
inline constexpr size_t kBytes = sizeof(BlockQ80);
}  // namespace q80

namespace q8k {
inline constexpr size_t kD = offsetof(BlockQ8K, d);
inline constexpr size_t kQs = offsetof(BlockQ8K, qs);
inline constexpr size_t kBsums = offsetof(BlockQ8K, bsums);
inline constexpr size_t kBytes = sizeof(BlockQ8K);
}  // namespace q8k

static_assert(q4k::kD == 0 && q4k::kDmin == 2 && q4k::kScales == 4 && q4k::kQs == 16);
static_assert(q6k::kQl == 0 && q6k::kQh == 128 && q6k::kScales == 192 && q6k::kD == 208);
static_assert(q80::kD == 0 && q80::kQs == 2);
static_assert(q8k::kD == 0 && q8k::kQs == 4 && q8k::kBsums == 260);

inline uint16_t load_u16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline int16_t load_i16(const uint8_t* p) {
  int16_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline uint32_t load_u32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline float load_f32(const uint8_t* p) {
  float v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline float load_fp16(const uint8_t* p) { return fp16_to_fp32(load_u16(p)); }

// The 12-byte Q4_K scale field as two little-endian u64: bytes 0..7 are sc0..7, resp. m0..7.
// Bytes 0-3 hold sc0..3 in bits 0-5 and the top bits of sc4..7 in bits 6-7; bytes 4-7 the same
// for the mins; bytes 8-11 the low 4 bits of sc4..7 (low nibble) and m4..7 (high nibble).
struct Q4KScales {
  uint64_t sc;
  uint64_t m;
};
inline Q4KScales unpack_q4_K_scales(const uint8_t* s) {
  const uint32_t w0 = load_u32(s), w1 = load_u32(s + 4), w2 = load_u32(s + 8);
  const uint32_t sc_lo = w0 & 0x3f3f3f3fu;
  const uint32_t sc_hi = (w2 & 0x0f0f0f0fu) | (((w0 >> 6) & 0x03030303u) << 4);
  const uint32_t m_lo = w1 & 0x3f3f3f3fu;
  const uint32_t m_hi = ((w2 >> 4) & 0x0f0f0f0fu) | (((w1 >> 6) & 0x03030303u) << 4);
  return {sc_lo | (uint64_t{sc_hi} << 32), m_lo | (uint64_t{m_hi} << 32)};
}
inline int q4k_byte(uint64_t packed, int s) { return static_cast<int>((packed >> (8 * s)) & 0xff); }

}  // namespace smol::kernels::detail
