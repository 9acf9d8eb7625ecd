// Block formats: the worked examples of the reference facts decoded exactly, quantize ->
// dequantize round trips within half a quantization step, and the Q8_K facts llama.cpp relies on.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "kernel_test_util.h"
#include "smol/kernels.h"

namespace smol::kernels {
namespace {

using testing::kU;

TEST(QuantTypes, IdsNamesAndSizes) {
  EXPECT_EQ(static_cast<uint32_t>(QuantType::kQ4_K), 12u);
  EXPECT_EQ(quant_type_from_id(14), QuantType::kQ6_K);
  EXPECT_EQ(quant_type_from_id(30), QuantType::kBF16);
  EXPECT_FALSE(quant_type_from_id(13).has_value());  // Q5_K: not handled
  EXPECT_STREQ(quant_type_name(QuantType::kQ8_0), "Q8_0");
  EXPECT_EQ(row_bytes(QuantType::kQ4_K, 11008), 43 * 144);
  EXPECT_EQ(row_bytes(QuantType::kQ6_K, 2048), 8 * 210);
  EXPECT_EQ(row_bytes(QuantType::kQ8_0, 64), 68);
  EXPECT_EQ(row_bytes(QuantType::kF16, 3), 6);
  EXPECT_TRUE(row_length_ok(QuantType::kQ4_K, 512));
  EXPECT_FALSE(row_length_ok(QuantType::kQ4_K, 300));
  EXPECT_FALSE(row_length_ok(QuantType::kQ8_0, 33));
}

// Reference facts §4.2, Q4_K worked example.
TEST(Q4K, WorkedExampleDecodesExactly) {
  uint8_t b[144] = {};
  const uint8_t head[16] = {0x00, 0x38, 0x00, 0x34, 0x01, 0x82, 0xc3, 0xc4,
                            0x40, 0x45, 0x89, 0x8c, 0x4a, 0x65, 0x12, 0x8f};
  std::memcpy(b, head, 16);
  b[16 + 67] = 0xa7;
  float y[256];
  dequantize_row(QuantType::kQ4_K, b, y, 256);
  EXPECT_EQ(y[131], 30.0f);
  EXPECT_EQ(y[163], 179.5f);
  EXPECT_EQ(y[0], 0.0f);
  EXPECT_EQ(y[130], -5.0f);
  EXPECT_EQ(y[255], -10.0f);
}

// The quantizer packs sub-block scales/mins the same way: re-quantizing the example's values
// must reproduce them exactly (they are on the grid the example's scales define).
TEST(Q4K, QuantizerRoundTripsTheWorkedExample) {
  uint8_t b[144] = {};
  const uint8_t head[16] = {0x00, 0x38, 0x00, 0x34, 0x01, 0x82, 0xc3, 0xc4,
                            0x40, 0x45, 0x89, 0x8c, 0x4a, 0x65, 0x12, 0x8f};
  std::memcpy(b, head, 16);
  std::mt19937 rng(7);
  for (int i = 16; i < 144; ++i) b[i] = static_cast<uint8_t>(rng());
  std::vector<float> x(256), back(256);
  dequantize_row(QuantType::kQ4_K, b, x.data(), 256);
  uint8_t q[144];
  quantize_row_q4_K(x.data(), q, 256);
  dequantize_row(QuantType::kQ4_K, q, back.data(), 256);
  for (int i = 0; i < 256; ++i) {
    const float step = 0.5f * 63.0f;  // largest d·sc in the example
    EXPECT_LE(std::fabs(back[i] - x[i]), 0.5f * step) << "element " << i;
  }
}

// Reference facts §4.2, Q6_K worked example.
TEST(Q6K, WorkedExampleDecodesExactly) {
  uint8_t b[210] = {};
  b[1] = 0x5c;        // ql[1]
  b[33] = 0x90;       // ql[33]
  b[128 + 1] = 0x83;  // qh[1] = 0b10000011
  b[192 + 0] = 3;     // scales[0]
  b[192 + 6] = 0xfb;  // scales[6] = -5
  b[208] = 0x00;      // d = 0.125 (fp16 0x3000), stored last
  b[209] = 0x30;
  float y[256];
  dequantize_row(QuantType::kQ6_K, b, y, 256);
  EXPECT_EQ(y[1], 10.5f);
  EXPECT_EQ(y[97], -5.625f);
  EXPECT_EQ(y[0], -12.0f);
}

// Per-element round-trip bound: half a quantization step of the element's (sub-)block, plus a
// few roundings of the magnitudes involved.
template <typename Step>
void expect_round_trip(QuantType type, const std::vector<float>& x, Step step_of) {
  const int64_t n = static_cast<int64_t>(x.size());
  std::vector<uint8_t> q(static_cast<size_t>(row_bytes(type, n)));
  quantize_row(type, x.data(), q.data(), n);
  std::vector<float> back(x.size());
  dequantize_row(type, q.data(), back.data(), n);
  for (int64_t i = 0; i < n; ++i) {
    const double step = step_of(q.data(), i);
    const double bound = 0.5 * step * (1.0 + 1e-6) + 8.0 * kU * (std::fabs(x[i]) + 64.0 * step);
    ASSERT_LE(std::fabs(static_cast<double>(back[i]) - x[i]), bound)
        << quant_type_name(type) << " element " << i << " x=" << x[i] << " back=" << back[i];
  }
}

class RoundTrip : public ::testing::TestWithParam<int64_t> {};

TEST_P(RoundTrip, Q4KWithinHalfStep) {
  std::mt19937 rng(100 + static_cast<unsigned>(GetParam()));
  const auto x = testing::random_floats(rng, GetParam(), 0.05f);
  expect_round_trip(QuantType::kQ4_K, x, [](const uint8_t* q, int64_t i) {
    const uint8_t* b = q + (i / 256) * 144;
    // Step of the sub-block = d·sc, read back by dequantizing q = 1 vs q = 0 at dmin = 0.
    uint8_t one[144];
    std::memcpy(one, b, 144);
    std::memset(one + 2, 0, 2);
    std::memset(one + 16, 0x11, 128);
    float y[256];
    dequantize_row(QuantType::kQ4_K, one, y, 256);
    return static_cast<double>(y[i % 256]);
  });
}

TEST_P(RoundTrip, Q6KWithinHalfStep) {
  std::mt19937 rng(200 + static_cast<unsigned>(GetParam()));
  const auto x = testing::random_floats(rng, GetParam(), 0.05f);
  expect_round_trip(QuantType::kQ6_K, x, [](const uint8_t* q, int64_t i) {
    const uint8_t* b = q + (i / 256) * 210;
    const int g = static_cast<int>(i % 256) / 16;
    return std::fabs(static_cast<double>(testing::f16(b + 208)) * static_cast<int8_t>(b[192 + g]));
  });
}

TEST_P(RoundTrip, Q8_0WithinHalfStep) {
  std::mt19937 rng(300 + static_cast<unsigned>(GetParam()));
  const auto x = testing::random_floats(rng, GetParam(), 2.0f);
  expect_round_trip(QuantType::kQ8_0, x, [](const uint8_t* q, int64_t i) {
    // The f32 step amax/127 is stored as fp16 (relative error <= 2^-11), and |q| <= 127.
    const double d = testing::f16(q + (i / 32) * 34);
    return d * (1.0 + 2.0 * 127.0 / 2048.0);
  });
}

TEST_P(RoundTrip, Q8KWithinHalfStep) {
  std::mt19937 rng(400 + static_cast<unsigned>(GetParam()));
  const auto x = testing::random_floats(rng, GetParam(), 3.0f);
  expect_round_trip(QuantType::kQ8_K, x, [](const uint8_t* q, int64_t i) {
    float d;
    std::memcpy(&d, q + (i / 256) * 292, 4);
    return std::fabs(static_cast<double>(d));
  });
}

TEST_P(RoundTrip, F16AndBF16) {
  std::mt19937 rng(500 + static_cast<unsigned>(GetParam()));
  const auto x = testing::random_floats(rng, GetParam(), 3.0f);
  // Half an ulp of the result: 2^-11 relative for f16 (normal range), 2^-8 for bf16.
  expect_round_trip(QuantType::kF16, x, [&](const uint8_t*, int64_t i) {
    return std::fabs(static_cast<double>(x[static_cast<size_t>(i)])) / 1024.0 + 1e-7;
  });
  expect_round_trip(QuantType::kBF16, x, [&](const uint8_t*, int64_t i) {
    return std::fabs(static_cast<double>(x[static_cast<size_t>(i)])) / 128.0;
  });
}

INSTANTIATE_TEST_SUITE_P(Lengths, RoundTrip, ::testing::Values(256, 768, 2048, 11008));

TEST(RoundTrip, ConstantAndZeroBlocks) {
  for (QuantType t : {QuantType::kQ4_K, QuantType::kQ6_K, QuantType::kQ8_0, QuantType::kQ8_K}) {
    for (float v : {0.0f, 1.5f, -2.25f}) {
      std::vector<float> x(256, v), back(256);
      std::vector<uint8_t> q(static_cast<size_t>(row_bytes(t, 256)));
      quantize_row(t, x.data(), q.data(), 256);
      dequantize_row(t, q.data(), back.data(), 256);
      for (int i = 0; i < 256; ++i) {
        EXPECT_NEAR(back[i], v, std::fabs(v) * 0.04 + 1e-7) << quant_type_name(t) << " v=" << v;
      }
    }
  }
}

// ---- Q8_K facts (reference facts §4.2 and §7.6) ------------------------------------------

float q8k_d(const std::vector<uint8_t>& q, int block = 0) {
  float d;
  std::memcpy(&d, q.data() + block * 292, 4);
  return d;
}

TEST(Q8K, DHasTheOppositeSignOfTheLargestMagnitude) {
  std::vector<float> x(256, 0.25f);
  x[10] = 4.0f;  // largest |x| positive -> d < 0, that element -> -127
  auto q = testing::q8_K_of(x);
  EXPECT_LT(q8k_d(q), 0.0f);
  EXPECT_EQ(static_cast<int8_t>(q[4 + 10]), -127);
  EXPECT_FLOAT_EQ(q8k_d(q), 4.0f / -127.0f);

  x[10] = -4.0f;  // largest |x| negative -> d > 0
  q = testing::q8_K_of(x);
  EXPECT_GT(q8k_d(q), 0.0f);
  EXPECT_EQ(static_cast<int8_t>(q[4 + 10]), -127);
}

TEST(Q8K, FirstOfEqualMagnitudesWins) {
  std::vector<float> x(256, 0.0f);
  x[3] = -2.0f;
  x[200] = 2.0f;
  const auto q = testing::q8_K_of(x);
  EXPECT_GT(q8k_d(q), 0.0f);  // max = x[3] = -2
  EXPECT_EQ(static_cast<int8_t>(q[4 + 3]), -127);
  EXPECT_EQ(static_cast<int8_t>(q[4 + 200]), 127);
}

TEST(Q8K, RoundsHalfToEvenAndFillsBsums) {
  std::vector<float> x(256, 0.0f);
  x[0] = -127.0f;  // iscale = 1 exactly
  x[1] = 2.5f;     // -> 2 (half to even)
  x[2] = 3.5f;     // -> 4
  x[3] = -0.5f;    // -> -0 = 0
  x[17] = 100.0f;
  const auto q = testing::q8_K_of(x);
  EXPECT_EQ(q8k_d(q), 1.0f);
  EXPECT_EQ(static_cast<int8_t>(q[4 + 1]), 2);
  EXPECT_EQ(static_cast<int8_t>(q[4 + 2]), 4);
  EXPECT_EQ(static_cast<int8_t>(q[4 + 3]), 0);
  int16_t bs0, bs1;
  std::memcpy(&bs0, q.data() + 260, 2);
  std::memcpy(&bs1, q.data() + 262, 2);
  EXPECT_EQ(bs0, -127 + 2 + 4);
  EXPECT_EQ(bs1, 100);
}

TEST(Q8K, AllZeroBlockHasZeroScale) {
  std::vector<float> x(512, 0.0f);
  x[300] = 1.0f;
  const auto q = testing::q8_K_of(x);
  EXPECT_EQ(q8k_d(q, 0), 0.0f);
  for (int i = 0; i < 292; ++i) EXPECT_EQ(q[i], 0) << i;
  EXPECT_NE(q8k_d(q, 1), 0.0f);
}

// Every tier's activation quantizer produces the reference's bytes exactly.
TEST(Q8K, FastTiersAreBitIdentical) {
  std::mt19937 rng(11);
  for (Isa isa : testing::fast_isas()) {
    if (!isa_supported(isa)) {
      std::printf("[  INFO    ] %s not supported by this CPU: not tested\n", isa_name(isa));
      continue;
    }
    for (int64_t n : {256, 512, 2048, 11008}) {
      auto x = testing::random_floats(rng, n, 1.5f);
      // Ties and exact halves: repeated magnitudes and values on the .5 grid.
      x[5] = 8.0f;
      x[6] = -8.0f;
      for (int i = 300; i < 356 && i < n; ++i) x[i] = static_cast<float>(i - 328) + 0.5f;
      const auto want = testing::q8_K_of(x);
      for (size_t off : {0, 1, 13, 63}) {
        std::vector<uint8_t> buf(want.size() + 64);
        testing::IsaScope scope(isa);
        ASSERT_TRUE(scope.ok());
        quantize_row_q8_K(x.data(), buf.data() + off, n);
        ASSERT_EQ(0, std::memcmp(buf.data() + off, want.data(), want.size()))
            << isa_name(isa) << " n=" << n << " offset=" << off;
      }
    }
  }
}

TEST(Isa, ParseAndSupport) {
  EXPECT_EQ(parse_isa("avx2"), Isa::kAvx2);
  EXPECT_EQ(parse_isa("avx512"), Isa::kAvx512);
  EXPECT_EQ(parse_isa("scalar"), Isa::kScalar);
  EXPECT_FALSE(parse_isa("sse9").has_value());
  EXPECT_TRUE(isa_supported(Isa::kScalar));
  EXPECT_TRUE(isa_supported(best_isa()));
  testing::IsaScope scope(Isa::kScalar);
  EXPECT_EQ(active_isa(), Isa::kScalar);
}

}  // namespace
}  // namespace smol::kernels
