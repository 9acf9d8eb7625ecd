// Type facts and the scalar dequantizers (the executable spec of every block layout).
#include <cmath>

#include "block_io.h"
#include "smol/kernels.h"
#include "smol/result.h"

namespace smol::kernels {

using namespace detail;

std::optional<QuantType> quant_type_from_id(uint32_t id) {
  switch (id) {
    case 0:
      return QuantType::kF32;
    case 1:
      return QuantType::kF16;
    case 8:
      return QuantType::kQ8_0;
    case 12:
      return QuantType::kQ4_K;
    case 14:
      return QuantType::kQ6_K;
    case 15:
      return QuantType::kQ8_K;
    case 30:
      return QuantType::kBF16;
    default:
      return std::nullopt;
  }
}

const char* quant_type_name(QuantType type) {
  switch (type) {
    case QuantType::kF32:
      return "F32";
    case QuantType::kF16:
      return "F16";
    case QuantType::kQ8_0:
      return "Q8_0";
    case QuantType::kQ4_K:
      return "Q4_K";
    case QuantType::kQ6_K:
      return "Q6_K";
    case QuantType::kQ8_K:
      return "Q8_K";
    case QuantType::kBF16:
      return "BF16";
  }
  return "?";
}

int64_t block_elems(QuantType type) {
  switch (type) {
    case QuantType::kF32:
    case QuantType::kF16:
    case QuantType::kBF16:
      return 1;
    case QuantType::kQ8_0:
      return kQK8_0;
    case QuantType::kQ4_K:
    case QuantType::kQ6_K:
    case QuantType::kQ8_K:
      return kQK;
  }
  SMOL_CHECK(false, "unknown QuantType");
}

int64_t block_bytes(QuantType type) {
  switch (type) {
    case QuantType::kF32:
      return 4;
    case QuantType::kF16:
    case QuantType::kBF16:
      return 2;
    case QuantType::kQ8_0:
      return sizeof(BlockQ80);
    case QuantType::kQ4_K:
      return sizeof(BlockQ4K);
    case QuantType::kQ6_K:
      return sizeof(BlockQ6K);
    case QuantType::kQ8_K:
      return sizeof(BlockQ8K);
  }
  SMOL_CHECK(false, "unknown QuantType");
}

bool row_length_ok(QuantType type, int64_t n) { return n >= 0 && n % block_elems(type) == 0; }

int64_t row_bytes(QuantType type, int64_t n) {
  SMOL_CHECK(row_length_ok(type, n), "row length is not a whole number of blocks");
  return n / block_elems(type) * block_bytes(type);
}

namespace {

void dequantize_q4_K(const uint8_t* b, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, b += q4k::kBytes, y += kQK) {
    const float d = load_fp16(b + q4k::kD), dmin = load_fp16(b + q4k::kDmin);
    const Q4KScales s = unpack_q4_K_scales(b + q4k::kScales);
    const uint8_t* qs = b + q4k::kQs;
    for (int e = 0; e < kQK; ++e) {
      const int c = e / 64, t = e % 64, sub = e / 32;
      const int q = t < 32 ? (qs[32 * c + t] & 0x0f) : (qs[32 * c + t - 32] >> 4);
      y[e] = d * static_cast<float>(q4k_byte(s.sc, sub)) * static_cast<float>(q) -
             dmin * static_cast<float>(q4k_byte(s.m, sub));
    }
  }
}

void dequantize_q6_K(const uint8_t* b, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, b += q6k::kBytes, y += kQK) {
    const float d = load_fp16(b + q6k::kD);
    const uint8_t* ql = b + q6k::kQl;
    const uint8_t* qh = b + q6k::kQh;
    const auto* sc = reinterpret_cast<const int8_t*>(b + q6k::kScales);
    for (int e = 0; e < kQK; ++e) {
      const int h = e / 128, j = e % 128, l = j % 32, quarter = j / 32;
      const uint8_t low = ql[64 * h + l + (quarter & 1) * 32];
      const int nib = quarter < 2 ? (low & 0x0f) : (low >> 4);
      const int hi = (qh[32 * h + l] >> (2 * quarter)) & 3;
      const int q6 = nib | (hi << 4);
      y[e] = d * static_cast<float>(sc[8 * h + j / 16]) * static_cast<float>(q6 - 32);
    }
  }
}

void dequantize_q8_0(const uint8_t* b, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, b += q80::kBytes, y += kQK8_0) {
    const float d = load_fp16(b + q80::kD);
    const auto* qs = reinterpret_cast<const int8_t*>(b + q80::kQs);
    for (int e = 0; e < kQK8_0; ++e) y[e] = d * static_cast<float>(qs[e]);
  }
}

void dequantize_q8_K(const uint8_t* b, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, b += q8k::kBytes, y += kQK) {
    const float d = load_f32(b + q8k::kD);
    const auto* qs = reinterpret_cast<const int8_t*>(b + q8k::kQs);
    for (int e = 0; e < kQK; ++e) y[e] = d * static_cast<float>(qs[e]);
  }
}

}  // namespace

void dequantize_row(QuantType type, const void* src, float* dst, int64_t n) {
  SMOL_CHECK(row_length_ok(type, n), "row length is not a whole number of blocks");
  const auto* b = static_cast<const uint8_t*>(src);
  switch (type) {
    case QuantType::kF32:
      std::memcpy(dst, src, static_cast<size_t>(n) * 4);
      return;
    case QuantType::kF16:
      for (int64_t i = 0; i < n; ++i) dst[i] = load_fp16(b + 2 * i);
      return;
    case QuantType::kBF16:
      for (int64_t i = 0; i < n; ++i) dst[i] = bf16_to_fp32(load_u16(b + 2 * i));
      return;
    case QuantType::kQ8_0:
      dequantize_q8_0(b, dst, n / kQK8_0);
      return;
    case QuantType::kQ4_K:
      dequantize_q4_K(b, dst, n / kQK);
      return;
    case QuantType::kQ6_K:
      dequantize_q6_K(b, dst, n / kQK);
      return;
    case QuantType::kQ8_K:
      dequantize_q8_K(b, dst, n / kQK);
      return;
  }
  SMOL_CHECK(false, "unknown QuantType");
}

void quantize_row(QuantType type, const float* x, void* dst, int64_t n) {
  SMOL_CHECK(row_length_ok(type, n), "row length is not a whole number of blocks");
  auto* b = static_cast<uint8_t*>(dst);
  switch (type) {
    case QuantType::kF32:
      std::memcpy(dst, x, static_cast<size_t>(n) * 4);
      return;
    case QuantType::kF16:
      for (int64_t i = 0; i < n; ++i) {
        const uint16_t h = fp32_to_fp16(x[i]);
        std::memcpy(b + 2 * i, &h, 2);
      }
      return;
    case QuantType::kBF16:
      for (int64_t i = 0; i < n; ++i) {
        const uint16_t h = fp32_to_bf16(x[i]);
        std::memcpy(b + 2 * i, &h, 2);
      }
      return;
    case QuantType::kQ8_0:
      quantize_row_q8_0(x, dst, n);
      return;
    case QuantType::kQ4_K:
      quantize_row_q4_K(x, dst, n);
      return;
    case QuantType::kQ6_K:
      quantize_row_q6_K(x, dst, n);
      return;
    case QuantType::kQ8_K:
      quantize_row_q8_K(x, dst, n);
      return;
  }
  SMOL_CHECK(false, "unknown QuantType");
}

}  // namespace smol::kernels
