// Dot products: every fast tier against the scalar reference (seeded random blocks, row lengths
// 256..11008, odd block counts, misaligned pointers), and the quantized dots against a
// double-precision dot of the dequantized values, with bounds derived from the block scales.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "kernel_test_util.h"
#include "smol/kernels.h"

namespace smol::kernels {
namespace {

using testing::IsaScope;
using testing::kU;

constexpr int64_t kLengths[] = {256, 768, 1280, 2048, 2816, 11008};  // 1, 3, 5, 8, 11, 43 blocks

// Weight blocks for a dot test: half the time from the quantizer (realistic), half raw random
// bytes with a sane fp16 scale (every nibble / scale / sign pattern, e.g. Q6_K scale -128).
std::vector<uint8_t> random_weights(std::mt19937& rng, QuantType type, int64_t n, bool raw) {
  if (!raw) {
    const auto x = testing::random_floats(rng, n, 0.03f);
    std::vector<uint8_t> q(static_cast<size_t>(row_bytes(type, n)));
    quantize_row(type, x.data(), q.data(), n);
    return q;
  }
  auto q = testing::random_bytes(rng, static_cast<size_t>(row_bytes(type, n)));
  std::uniform_real_distribution<float> scale(1e-4f, 1e-2f);
  const int64_t bb = block_bytes(type);
  for (int64_t b = 0; b < n / block_elems(type); ++b) {
    uint8_t* p = q.data() + b * bb;
    const uint16_t d = fp32_to_fp16(scale(rng)), dmin = fp32_to_fp16(scale(rng));
    if (type == QuantType::kQ6_K) {
      std::memcpy(p + 208, &d, 2);
    } else {
      std::memcpy(p, &d, 2);
      if (type == QuantType::kQ4_K) std::memcpy(p + 2, &dmin, 2);
    }
  }
  return q;
}

std::vector<uint8_t> activations(std::mt19937& rng, QuantType type, int64_t n) {
  const auto x = testing::random_floats(rng, n, 1.0f);
  if (type == QuantType::kQ8_0) {
    std::vector<uint8_t> q(static_cast<size_t>(row_bytes(type, n)));
    quantize_row_q8_0(x.data(), q.data(), n);
    return q;
  }
  return testing::q8_K_of(x);
}

float quant_dot(QuantType type, int64_t n, const void* w, const void* a) {
  switch (type) {
    case QuantType::kQ4_K:
      return vec_dot_q4_K_q8_K(n, w, a);
    case QuantType::kQ6_K:
      return vec_dot_q6_K_q8_K(n, w, a);
    default:
      return vec_dot_q8_0_q8_0(n, w, a);
  }
}

double exact_dot(QuantType type, int64_t n, const uint8_t* w, const uint8_t* a) {
  std::vector<float> wf(static_cast<size_t>(n)), af(static_cast<size_t>(n));
  dequantize_row(type, w, wf.data(), n);
  dequantize_row(type == QuantType::kQ8_0 ? QuantType::kQ8_0 : QuantType::kQ8_K, a, af.data(), n);
  double s = 0.0;
  for (int64_t i = 0; i < n; ++i) s += static_cast<double>(wf[i]) * af[i];
  return s;
}

class QuantDot : public ::testing::TestWithParam<QuantType> {};

TEST_P(QuantDot, ReferenceMatchesDoubleDotOfDequantizedValues) {
  const QuantType type = GetParam();
  std::mt19937 rng(1000 + static_cast<unsigned>(type));
  IsaScope scalar(Isa::kScalar);
  for (int64_t n : kLengths) {
    for (bool raw : {false, true}) {
      const auto w = random_weights(rng, type, n, raw);
      const auto a = activations(rng, type, n);
      const double want = exact_dot(type, n, w.data(), a.data());
      // Dequantized values themselves carry a few roundings: widen by a handful of ulps.
      const double tol = testing::dot_tolerance(type, n, w.data(), a.data()) +
                         8.0 * kU * testing::dot_magnitude(type, n, w.data(), a.data());
      EXPECT_NEAR(quant_dot(type, n, w.data(), a.data()), want, tol)
          << quant_type_name(type) << " n=" << n << " raw=" << raw;
    }
  }
}

TEST_P(QuantDot, FastTiersMatchReference) {
  const QuantType type = GetParam();
  std::mt19937 rng(2000 + static_cast<unsigned>(type));
  for (Isa isa : testing::fast_isas()) {
    if (!isa_supported(isa)) {
      std::printf("[  INFO    ] %s not supported by this CPU: not tested\n", isa_name(isa));
      continue;
    }
    for (int64_t n : kLengths) {
      for (bool raw : {false, true}) {
        const auto w = random_weights(rng, type, n, raw);
        const auto a = activations(rng, type, n);
        float want;
        {
          IsaScope scalar(Isa::kScalar);
          want = quant_dot(type, n, w.data(), a.data());
        }
        const double tol = testing::dot_tolerance(type, n, w.data(), a.data());
        IsaScope scope(isa);
        ASSERT_TRUE(scope.ok());
        for (size_t wo : {0, 1, 7, 33, 63}) {
          const size_t ao = (wo * 5 + 3) % 64;
          testing::Misaligned wm(w.data(), w.size(), wo), am(a.data(), a.size(), ao);
          EXPECT_NEAR(quant_dot(type, n, wm.get(), am.get()), want, tol)
              << isa_name(isa) << " " << quant_type_name(type) << " n=" << n << " raw=" << raw
              << " offsets " << wo << "/" << ao;
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Types, QuantDot,
                         ::testing::Values(QuantType::kQ4_K, QuantType::kQ6_K, QuantType::kQ8_0),
                         [](const auto& info) { return std::string(quant_type_name(info.param)); });

// The largest products the integer paths can meet: every quant at its maximum (Q4_K 15 with
// scale and min 63, Q6_K 63 with scale -1) against activations all -128. The AVX-512 tier packs
// 4-product s32 sums into s16 (|sum| <= 4·63·128 = 32256): this is where that would saturate.
TEST(QuantDot, FastTiersExactAtTheExtremes) {
  const int64_t n = 1024;
  std::vector<uint8_t> a(static_cast<size_t>(row_bytes(QuantType::kQ8_K, n)));
  const int64_t ab = block_bytes(QuantType::kQ8_K);
  for (int64_t b = 0; b < n / 256; ++b) {
    uint8_t* p = a.data() + b * ab;
    const float d = 0.01f;
    std::memcpy(p, &d, 4);
    std::memset(p + 4, 0x80, 256);  // -128
    for (int g = 0; g < 16; ++g) {
      const int16_t sum = -128 * 16;
      std::memcpy(p + 260 + 2 * g, &sum, 2);
    }
  }
  for (QuantType type : {QuantType::kQ4_K, QuantType::kQ6_K}) {
    const std::vector<uint8_t> w = testing::max_quant_blocks(type, n / 256);
    float want;
    {
      IsaScope scalar(Isa::kScalar);
      want = quant_dot(type, n, w.data(), a.data());
    }
    ASSERT_NE(want, 0.0f);
    const double tol = testing::dot_tolerance(type, n, w.data(), a.data());
    for (Isa isa : testing::fast_isas()) {
      if (!isa_supported(isa)) continue;
      IsaScope scope(isa);
      EXPECT_NEAR(quant_dot(type, n, w.data(), a.data()), want, tol)
          << isa_name(isa) << " " << quant_type_name(type);
    }
  }
}

// Quantization error of the whole pipeline: the Q4_K/Q6_K · Q8_K dot against the f32 dot of
// the original values, within Σ |a|·(half step of w) + Σ |w'|·(half step of a) + rounding.
TEST(QuantDot, TracksTheFloatDotOfTheOriginalValues) {
  std::mt19937 rng(3000);
  for (QuantType type : {QuantType::kQ4_K, QuantType::kQ6_K}) {
    const int64_t n = 2048;
    const auto wx = testing::random_floats(rng, n, 0.03f);
    const auto ax = testing::random_floats(rng, n, 1.0f);
    std::vector<uint8_t> wq(static_cast<size_t>(row_bytes(type, n)));
    quantize_row(type, wx.data(), wq.data(), n);
    const auto aq = testing::q8_K_of(ax);
    std::vector<float> wd(n), ad(n);
    dequantize_row(type, wq.data(), wd.data(), n);
    dequantize_row(QuantType::kQ8_K, aq.data(), ad.data(), n);
    double want = 0.0, bound = 0.0;
    for (int64_t i = 0; i < n; ++i) {
      want += static_cast<double>(wx[i]) * ax[i];
      bound +=
          std::fabs(ax[i]) * std::fabs(wd[i] - wx[i]) + std::fabs(wd[i]) * std::fabs(ad[i] - ax[i]);
    }
    bound += testing::dot_tolerance(type, n, wq.data(), aq.data());
    EXPECT_NEAR(quant_dot(type, n, wq.data(), aq.data()), want, bound * 1.0001)
        << quant_type_name(type);
  }
}

// ---- f16 / f32 ------------------------------------------------------------------------------

TEST(FloatDot, FastTiersMatchReference) {
  std::mt19937 rng(4000);
  for (int64_t n : {1, 7, 31, 256, 1000, 2048, 11008}) {
    const auto w = testing::random_floats(rng, n, 1.0f);
    const auto x = testing::random_floats(rng, n, 1.0f);
    std::vector<uint16_t> wh(static_cast<size_t>(n));
    quantize_row(QuantType::kF16, w.data(), wh.data(), n);
    std::vector<float> whf(static_cast<size_t>(n));
    dequantize_row(QuantType::kF16, wh.data(), whf.data(), n);
    double exact32 = 0.0, exact16 = 0.0, mag32 = 0.0, mag16 = 0.0;
    for (int64_t i = 0; i < n; ++i) {
      exact32 += static_cast<double>(w[i]) * x[i];
      exact16 += static_cast<double>(whf[i]) * x[i];
      mag32 += std::fabs(static_cast<double>(w[i]) * x[i]);
      mag16 += std::fabs(static_cast<double>(whf[i]) * x[i]);
    }
    // Any summation order of n products: |error| <= (n + 1)·u·Σ|w·x| (first order).
    const double tol32 = (n + 1) * kU * mag32 * 1.01, tol16 = (n + 1) * kU * mag16 * 1.01;
    for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
      if (!isa_supported(isa)) continue;
      IsaScope scope(isa);
      for (size_t off : {0, 4, 12}) {  // floats keep their natural alignment; halves need 2
        std::vector<float> xs(static_cast<size_t>(n) + 16), ws(static_cast<size_t>(n) + 16);
        std::memcpy(xs.data() + off / 4, x.data(), n * 4);
        std::memcpy(ws.data() + off / 4, w.data(), n * 4);
        std::vector<uint16_t> hs(static_cast<size_t>(n) + 16);
        std::memcpy(hs.data() + off / 2 + 1, wh.data(), n * 2);
        EXPECT_NEAR(vec_dot_f32(n, ws.data() + off / 4, xs.data() + off / 4), exact32, tol32)
            << isa_name(isa) << " n=" << n;
        EXPECT_NEAR(vec_dot_f16_f32(n, hs.data() + off / 2 + 1, xs.data() + off / 4), exact16,
                    tol16)
            << isa_name(isa) << " n=" << n;
      }
    }
  }
}

}  // namespace
}  // namespace smol::kernels
