// matvec / matmul / matmul_multi against a simple reference (quantize the activations with the
// scalar tier, one reference dot per row and token), on every tier, odd row counts, row lengths up
// to 11008; thread counts 1 and 2 give identical bits.
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

struct Case {
  QuantType type;
  int64_t rows, cols, tokens;
};

std::vector<uint8_t> make_weights(std::mt19937& rng, QuantType type, int64_t rows, int64_t cols) {
  const auto x = testing::random_floats(rng, rows * cols, 0.03f);
  const int64_t rb = row_bytes(type, cols);
  std::vector<uint8_t> w(static_cast<size_t>(rb * rows));
  for (int64_t r = 0; r < rows; ++r)
    quantize_row(type, x.data() + r * cols, w.data() + r * rb, cols);
  return w;
}

// Reference: y[t][r] with the scalar tier's quantization and dots, plus a per-entry tolerance
// (float rounding of a differently ordered sum, derived from the block magnitudes).
void reference(QuantType type, const std::vector<uint8_t>& w, int64_t rows, int64_t cols,
               const std::vector<float>& x, int64_t n, std::vector<float>& y,
               std::vector<double>& tol) {
  IsaScope scalar(Isa::kScalar);
  const int64_t rb = row_bytes(type, cols);
  y.assign(static_cast<size_t>(rows * n), 0.0f);
  tol.assign(y.size(), 0.0);
  for (int64_t t = 0; t < n; ++t) {
    const float* xt = x.data() + t * cols;
    std::vector<uint8_t> a;
    if (type == QuantType::kQ4_K || type == QuantType::kQ6_K) {
      a = testing::q8_K_of(std::vector<float>(xt, xt + cols));
    } else if (type == QuantType::kQ8_0) {
      a.resize(static_cast<size_t>(row_bytes(QuantType::kQ8_0, cols)));
      quantize_row_q8_0(xt, a.data(), cols);
    }
    for (int64_t r = 0; r < rows; ++r) {
      const uint8_t* wr = w.data() + r * rb;
      float v;
      double t_ol;
      switch (type) {
        case QuantType::kQ4_K:
          v = vec_dot_q4_K_q8_K(cols, wr, a.data());
          t_ol = testing::dot_tolerance(type, cols, wr, a.data());
          break;
        case QuantType::kQ6_K:
          v = vec_dot_q6_K_q8_K(cols, wr, a.data());
          t_ol = testing::dot_tolerance(type, cols, wr, a.data());
          break;
        case QuantType::kQ8_0:
          v = vec_dot_q8_0_q8_0(cols, wr, a.data());
          t_ol = testing::dot_tolerance(type, cols, wr, a.data());
          break;
        default: {
          std::vector<float> wf(static_cast<size_t>(cols));
          dequantize_row(type, wr, wf.data(), cols);
          double s = 0.0, mag = 0.0;
          for (int64_t c = 0; c < cols; ++c) {
            s += static_cast<double>(wf[c]) * xt[c];
            mag += std::fabs(static_cast<double>(wf[c]) * xt[c]);
          }
          v = static_cast<float>(s);
          t_ol = 2.0 * (cols + 1) * kU * mag + 1e-30;
        }
      }
      y[t * rows + r] = v;
      tol[t * rows + r] = 2.0 * t_ol;  // reference and tier each within t_ol of the exact value
    }
  }
}

class MatrixKernels : public ::testing::TestWithParam<Case> {};

TEST_P(MatrixKernels, MatchReferenceOnEveryTier) {
  const Case c = GetParam();
  std::mt19937 rng(static_cast<unsigned>(c.rows * 31 + c.cols + c.tokens));
  const auto w = make_weights(rng, c.type, c.rows, c.cols);
  const auto x = testing::random_floats(rng, c.cols * c.tokens, 1.0f);
  std::vector<float> want;
  std::vector<double> tol;
  reference(c.type, w, c.rows, c.cols, x, c.tokens, want, tol);

  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
    if (!isa_supported(isa)) {
      std::printf("[  INFO    ] %s not supported by this CPU: not tested\n", isa_name(isa));
      continue;
    }
    IsaScope scope(isa);
    std::vector<float> by_matvec(want.size()), by_matmul(want.size());
    for (int64_t t = 0; t < c.tokens; ++t) {
      matvec(c.type, w.data(), c.rows, c.cols, x.data() + t * c.cols,
             by_matvec.data() + t * c.rows);
    }
    matmul(c.type, w.data(), c.rows, c.cols, x.data(), c.tokens, by_matmul.data());
    for (size_t i = 0; i < want.size(); ++i) {
      ASSERT_NEAR(by_matvec[i], want[i], tol[i]) << isa_name(isa) << " matvec entry " << i;
      ASSERT_NEAR(by_matmul[i], want[i], tol[i]) << isa_name(isa) << " matmul entry " << i;
    }
  }
}

TEST_P(MatrixKernels, ThreadCountDoesNotChangeBits) {
  const Case c = GetParam();
  std::mt19937 rng(static_cast<unsigned>(c.rows + c.cols));
  const auto w = make_weights(rng, c.type, c.rows, c.cols);
  const auto x = testing::random_floats(rng, c.cols * c.tokens, 1.0f);
  const int saved = num_threads();
  std::vector<float> one(static_cast<size_t>(c.rows * c.tokens)), two(one.size());
  std::vector<float> one_mv(static_cast<size_t>(c.rows)), two_mv(one_mv.size());
  set_num_threads(1);
  matmul(c.type, w.data(), c.rows, c.cols, x.data(), c.tokens, one.data());
  matvec(c.type, w.data(), c.rows, c.cols, x.data(), one_mv.data());
  set_num_threads(2);
  matmul(c.type, w.data(), c.rows, c.cols, x.data(), c.tokens, two.data());
  matvec(c.type, w.data(), c.rows, c.cols, x.data(), two_mv.data());
  set_num_threads(saved);
  if (c.type != QuantType::kF32) {  // (F32 matmul is OpenBLAS's business)
    EXPECT_EQ(0, std::memcmp(one.data(), two.data(), one.size() * 4));
  }
  EXPECT_EQ(0, std::memcmp(one_mv.data(), two_mv.data(), one_mv.size() * 4));
}

// Decode (one token) gives every row exactly what the tier's dot kernel gives it: the AVX-512
// tier reads two rows at a time there (one from each half of a thread's rows), and an odd row
// count leaves one row to the one-row tile.
TEST(MatrixKernels, DecodeRowsEqualTheDotKernel) {
  for (QuantType type : {QuantType::kQ4_K, QuantType::kQ6_K}) {
    for (int64_t rows : {1, 2, 37, 64}) {
      const int64_t cols = 768;
      std::mt19937 rng(static_cast<unsigned>(rows * 7 + static_cast<int>(type)));
      const auto w = make_weights(rng, type, rows, cols);
      const auto x = testing::random_floats(rng, cols, 1.0f);
      const int64_t rb = row_bytes(type, cols);
      for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
        if (!isa_supported(isa)) continue;
        IsaScope scope(isa);
        std::vector<uint8_t> xq(static_cast<size_t>(row_bytes(QuantType::kQ8_K, cols)));
        quantize_row_q8_K(x.data(), xq.data(), cols);
        std::vector<float> y(static_cast<size_t>(rows));
        matvec(type, w.data(), rows, cols, x.data(), y.data());
        for (int64_t r = 0; r < rows; ++r) {
          const float want = type == QuantType::kQ4_K
                                 ? vec_dot_q4_K_q8_K(cols, w.data() + r * rb, xq.data())
                                 : vec_dot_q6_K_q8_K(cols, w.data() + r * rb, xq.data());
          ASSERT_EQ(0, std::memcmp(&want, &y[static_cast<size_t>(r)], 4))
              << quant_type_name(type) << " " << isa_name(isa) << " rows " << rows << " row " << r
              << ": " << want << " vs " << y[static_cast<size_t>(r)];
        }
      }
    }
  }
}

// matmul_multi (a layer's Q, K, V or gate and up in one call) gives every matrix exactly what a
// call of its own gives it, with mixed weight types (so several activation formats in one call),
// one token (decode's shared rows on AVX2) and several, on 1 and 2 threads.
TEST(MatrixKernels, MultiEqualsOneCallPerMatrix) {
  const int64_t cols = 768;
  const std::vector<std::vector<std::pair<QuantType, int64_t>>> groups = {
      {{QuantType::kQ4_K, 37}, {QuantType::kQ6_K, 20}, {QuantType::kQ8_0, 16}},
      {{QuantType::kF16, 5}, {QuantType::kF32, 9}, {QuantType::kQ4_K, 300}, {QuantType::kQ4_K, 1}},
      {{QuantType::kQ4_K, 64}, {QuantType::kQ4_K, 0}, {QuantType::kQ6_K, 33}}};
  const int saved = num_threads();
  for (size_t gi = 0; gi < groups.size(); ++gi) {
    std::mt19937 rng(static_cast<unsigned>(gi + 11));
    std::vector<std::vector<uint8_t>> w;
    for (const auto& [type, rows] : groups[gi]) w.push_back(make_weights(rng, type, rows, cols));
    for (int64_t n : {1, 3, 9}) {
      const auto x = testing::random_floats(rng, cols * n, 1.0f);
      for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
        if (!isa_supported(isa)) continue;
        IsaScope scope(isa);
        for (int threads : {1, 2}) {
          set_num_threads(threads);
          std::vector<std::vector<float>> got, want;
          std::vector<MatmulTarget> targets;
          for (size_t j = 0; j < w.size(); ++j) {
            const auto [type, rows] = groups[gi][j];
            got.emplace_back(static_cast<size_t>(rows * n) + 1, -7.0f);  // +1: nothing past y
            want.emplace_back(static_cast<size_t>(rows * n), 0.0f);
            if (n == 1) {
              matvec(type, w[j].data(), rows, cols, x.data(), want[j].data());
            } else {
              matmul(type, w[j].data(), rows, cols, x.data(), n, want[j].data());
            }
          }
          for (size_t j = 0; j < w.size(); ++j) {
            targets.push_back(
                {groups[gi][j].first, w[j].data(), groups[gi][j].second, got[j].data()});
          }
          matmul_multi(targets, cols, x.data(), n);
          for (size_t j = 0; j < w.size(); ++j) {
            ASSERT_EQ(got[j].back(), -7.0f) << "wrote past matrix " << j;
            got[j].pop_back();
            if (groups[gi][j].first == QuantType::kF32 && n > 1) {
              // OpenBLAS: its own threads may sum in another order from call to call.
              for (size_t i = 0; i < got[j].size(); ++i) {
                ASSERT_NEAR(got[j][i], want[j][i], 1e-4f * (1.0f + std::fabs(want[j][i])));
              }
              continue;
            }
            if (got[j].empty()) continue;  // (memcmp wants real pointers, even for 0 bytes)
            ASSERT_EQ(0, std::memcmp(got[j].data(), want[j].data(), got[j].size() * 4))
                << isa_name(isa) << " group " << gi << " matrix " << j << " tokens " << n
                << " threads " << threads;
          }
        }
      }
    }
  }
  set_num_threads(saved);
}

// Weights at any byte offset (GGUF tensors are 32-byte aligned, Q6_K blocks are 210 bytes) give
// the same bits as aligned weights, on every tier and in both the decode and prefill kernels.
TEST_P(MatrixKernels, MisalignedWeightsGiveTheSameBits) {
  const Case c = GetParam();
  std::mt19937 rng(static_cast<unsigned>(c.rows * 7 + c.cols));
  const auto w = make_weights(rng, c.type, c.rows, c.cols);
  const auto x = testing::random_floats(rng, c.cols * c.tokens, 1.0f);
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
    if (!isa_supported(isa)) continue;
    IsaScope scope(isa);
    std::vector<float> want(static_cast<size_t>(c.rows * c.tokens)), got(want.size());
    matmul(c.type, w.data(), c.rows, c.cols, x.data(), c.tokens, want.data());
    // F32 / F16 rows need their natural alignment (smol/kernels.h); quantized rows need none.
    const size_t unit = c.type == QuantType::kF32 ? 4 : c.type == QuantType::kF16 ? 2 : 1;
    for (size_t off : {1, 2, 17, 63}) {
      testing::Misaligned wm(w.data(), w.size(), off * unit % 64);
      matmul(c.type, wm.get(), c.rows, c.cols, x.data(), c.tokens, got.data());
      EXPECT_EQ(0, std::memcmp(want.data(), got.data(), want.size() * 4))
          << isa_name(isa) << " weight offset " << off;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, MatrixKernels,
    ::testing::Values(Case{QuantType::kQ4_K, 37, 256, 5}, Case{QuantType::kQ4_K, 64, 2048, 9},
                      Case{QuantType::kQ4_K, 19, 11008, 3}, Case{QuantType::kQ6_K, 33, 768, 7},
                      Case{QuantType::kQ6_K, 17, 11008, 2}, Case{QuantType::kQ8_0, 21, 2048, 6},
                      Case{QuantType::kF16, 13, 1024, 4}, Case{QuantType::kF32, 29, 512, 5},
                      Case{QuantType::kQ4_K, 1, 512, 70}, Case{QuantType::kQ4_K, 50, 11008, 20},
                      Case{QuantType::kQ4_K, 48, 256, 131}, Case{QuantType::kQ6_K, 40, 256, 1},
                      Case{QuantType::kQ6_K, 35, 2048, 13}, Case{QuantType::kQ6_K, 32, 11008, 9}),
    [](const auto& info) {
      const Case& c = info.param;
      return std::string(quant_type_name(c.type)) + "_" + std::to_string(c.rows) + "x" +
             std::to_string(c.cols) + "_t" + std::to_string(c.tokens);
    });

// Every quant at its maximum against activations of ±127 (what ±1.0 quantizes to): the largest
// partial sums the s16 packs of the AVX-512 tiles and the s16 pairs of the AVX2 tiles see, for
// one token (single path) and 2-5 tokens (token pairs, tiles of 4).
TEST(MatrixKernels, ExtremeQuantsStayExact) {
  const int64_t rows = 20, cols = 512, tokens = 5;
  std::vector<float> x(static_cast<size_t>(cols * tokens));
  for (int64_t t = 0; t < tokens; ++t) {
    for (int64_t c = 0; c < cols; ++c) x[static_cast<size_t>(t * cols + c)] = t % 2 ? 1.0f : -1.0f;
  }
  for (QuantType type : {QuantType::kQ4_K, QuantType::kQ6_K}) {
    const std::vector<uint8_t> w = testing::max_quant_blocks(type, rows * cols / 256);
    std::vector<float> want;
    std::vector<double> tol;
    reference(type, w, rows, cols, x, tokens, want, tol);
    for (Isa isa : {Isa::kAvx2, Isa::kAvx512}) {
      if (!isa_supported(isa)) continue;
      IsaScope scope(isa);
      for (int64_t n = 1; n <= tokens; ++n) {
        std::vector<float> got(static_cast<size_t>(rows * n));
        matmul(type, w.data(), rows, cols, x.data(), n, got.data());
        for (size_t i = 0; i < got.size(); ++i) {
          ASSERT_NEAR(got[i], want[i], tol[i])
              << isa_name(isa) << " " << quant_type_name(type) << " n " << n << " entry " << i;
        }
      }
    }
  }
}

TEST(MatrixKernels, EmptyShapes) {
  std::vector<float> x(8, 1.0f), y(8, 5.0f);
  matmul(QuantType::kF32, x.data(), 4, 0, x.data(), 2, y.data());  // zero-length rows: dots are 0
  for (int i = 0; i < 8; ++i) EXPECT_EQ(y[i], 0.0f);
  y.assign(8, 5.0f);
  matvec(QuantType::kQ4_K, x.data(), 0, 256, x.data(), y.data());     // no rows: nothing written
  matmul(QuantType::kQ4_K, x.data(), 4, 256, x.data(), 0, y.data());  // no tokens
  for (int i = 0; i < 8; ++i) EXPECT_EQ(y[i], 5.0f);
}

TEST(MatrixKernels, SupportedTypes) {
  EXPECT_TRUE(matmul_supports(QuantType::kQ4_K));
  EXPECT_TRUE(matmul_supports(QuantType::kQ6_K));
  EXPECT_FALSE(matmul_supports(QuantType::kQ8_K));
  EXPECT_FALSE(matmul_supports(QuantType::kBF16));
}

}  // namespace
}  // namespace smol::kernels
