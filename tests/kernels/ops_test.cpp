// Tests of the f32 row ops in smol/ops.h: each against a double-precision formula (tolerances
// derived from float rounding, u = 2^-24), and each SIMD tier against the scalar reference on
// odd lengths and misaligned pointers.
#include "smol/ops.h"

#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "smol/fp16.h"
#include "smol/kernels.h"

namespace smol::kernels {
namespace {

constexpr double kU = 1.0 / 16777216.0;  // unit roundoff of float (2^-24)

std::vector<Isa> supported_isas() {
  std::vector<Isa> out;
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
    if (isa_supported(isa)) out.push_back(isa);
  }
  return out;
}

// Restores the process-wide tier after each test.
class OpsTest : public ::testing::Test {
 protected:
  void SetUp() override { saved_ = active_isa(); }
  void TearDown() override { ASSERT_TRUE(set_isa(saved_).ok()); }
  static void use(Isa isa) { ASSERT_TRUE(set_isa(isa).ok()) << isa_name(isa); }

 private:
  Isa saved_ = Isa::kScalar;
};

std::vector<float> random_floats(size_t n, float lo, float hi, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

// Lengths that hit empty-body, tail-only, exact-vector and vector+tail paths of every tier.
const int64_t kLengths[] = {1, 3, 7, 8, 9, 15, 16, 17, 31, 33, 100, 255, 2048, 2051, 11008};

// ---- rms_norm ---------------------------------------------------------------------------------

// Double-precision RMSNorm. The float op rounds the squares (rel. u each), the mean (u), the
// sqrt and the division (u each) and two products (u each): |err| <= ~7u |ref|; we allow 10u.
TEST_F(OpsTest, RmsNormMatchesDoubleFormula) {
  for (Isa isa : supported_isas()) {
    use(isa);
    for (int64_t n : kLengths) {
      const auto x = random_floats(n + 1, -3.0f, 3.0f, 11 + n);
      const auto w = random_floats(n + 1, -2.0f, 2.0f, 12 + n);
      std::vector<float> out(n + 1);
      const float eps = 1e-6f;
      // +1: misaligned pointers.
      rms_norm(x.data() + 1, w.data() + 1, out.data() + 1, n, eps);
      double ss = 0;
      for (int64_t i = 1; i <= n; ++i) ss += static_cast<double>(x[i]) * x[i];
      const double scale = 1.0 / std::sqrt(ss / n + eps);
      for (int64_t i = 1; i <= n; ++i) {
        const double ref = x[i] * scale * w[i];
        ASSERT_NEAR(out[i], ref, 10 * kU * std::fabs(ref) + 1e-30)
            << isa_name(isa) << " n=" << n << " i=" << i;
      }
    }
  }
}

// Tiers keep llama.cpp's rounding steps (float squares, double sum, float mean/scale, two
// products); only the order of the double sum differs, which moves the float mean by at most
// one ulp, so outputs agree within 2 ulp.
TEST_F(OpsTest, RmsNormTiersMatchScalar) {
  for (int64_t n : kLengths) {
    const auto x = random_floats(n + 3, -50.0f, 50.0f, 21 + n);
    const auto w = random_floats(n + 3, -2.0f, 2.0f, 22 + n);
    std::vector<float> ref(n), got(n + 3);
    use(Isa::kScalar);
    rms_norm(x.data() + 3, w.data() + 3, ref.data(), n, 1e-6f);
    for (Isa isa : supported_isas()) {
      use(isa);
      rms_norm(x.data() + 3, w.data() + 3, got.data() + 2, n, 1e-6f);
      for (int64_t i = 0; i < n; ++i) {
        ASSERT_NEAR(got[i + 2], ref[i], 4 * kU * std::fabs(ref[i]) + 1e-30)
            << isa_name(isa) << " n=" << n;
      }
    }
  }
}

TEST_F(OpsTest, RmsNormInPlaceAndRows) {
  const int64_t n = 2048, rows = 37;
  const auto x = random_floats(n * rows, -1.0f, 1.0f, 5);
  const auto w = random_floats(n, 0.5f, 1.5f, 6);
  std::vector<float> rows_out(n * rows), inplace = x;
  rms_norm_rows(x.data(), w.data(), rows_out.data(), rows, n, 1e-6f);
  for (int64_t r = 0; r < rows; ++r) {
    std::vector<float> one(n);
    rms_norm(x.data() + r * n, w.data(), one.data(), n, 1e-6f);
    ASSERT_EQ(0, std::memcmp(one.data(), rows_out.data() + r * n, n * sizeof(float))) << r;
    rms_norm(inplace.data() + r * n, w.data(), inplace.data() + r * n, n, 1e-6f);
  }
  EXPECT_EQ(0, std::memcmp(inplace.data(), rows_out.data(), inplace.size() * sizeof(float)));
}

TEST_F(OpsTest, RmsNormRowsIndependentOfThreadCount) {
  const int64_t n = 2048, rows = 64;
  const auto x = random_floats(n * rows, -1.0f, 1.0f, 7);
  const auto w = random_floats(n, 0.5f, 1.5f, 8);
  std::vector<float> a(n * rows), b(n * rows);
  const int saved = omp_get_max_threads();
  omp_set_num_threads(1);
  rms_norm_rows(x.data(), w.data(), a.data(), rows, n, 1e-6f);
  omp_set_num_threads(2);
  rms_norm_rows(x.data(), w.data(), b.data(), rows, n, 1e-6f);
  omp_set_num_threads(saved);
  EXPECT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * sizeof(float)));
}

// ---- RoPE -------------------------------------------------------------------------------------

// Direct formula in double: theta_i = pos * base^(-2i/hd), adjacent pairs rotated.
void rope_reference(const float* x, double* out, int n_heads, int hd, int64_t pos, double base) {
  for (int h = 0; h < n_heads; ++h) {
    for (int i = 0; i < hd / 2; ++i) {
      const double theta = static_cast<double>(pos) * std::pow(base, -2.0 * i / hd);
      const double x0 = x[h * hd + 2 * i], x1 = x[h * hd + 2 * i + 1];
      out[h * hd + 2 * i] = x0 * std::cos(theta) - x1 * std::sin(theta);
      out[h * hd + 2 * i + 1] = x0 * std::sin(theta) + x1 * std::cos(theta);
    }
  }
}

// Error model of the float op (ggml's): theta_i is (float)pos times theta_scale^i built by i
// float multiplications, with theta_scale = powf(base, -2/hd) off by <= 1 ulp, so
// |d theta_i| <= (2i + 1) u theta_i. A rotation error d theta moves the pair by r |d theta|
// (r = pair norm); cosf/sinf and the two products and the sum add <= 4u (|x0| + |x1|).
TEST_F(OpsTest, RopeMatchesDirectFormula) {
  const int n_heads = 16, hd = 128;
  const double base = 5e6;
  for (int64_t pos : {int64_t{0}, int64_t{1}, int64_t{2}, int64_t{7}, int64_t{100}, int64_t{4095},
                      int64_t{32767}, int64_t{60000}, int64_t{65535}}) {
    auto x = random_floats(n_heads * hd, -2.0f, 2.0f, static_cast<uint32_t>(pos) + 1);
    std::vector<double> ref(x.size());
    rope_reference(x.data(), ref.data(), n_heads, hd, pos, base);
    const auto orig = x;
    rope_norm(x.data(), n_heads, hd, pos, static_cast<float>(base));
    for (int h = 0; h < n_heads; ++h) {
      for (int i = 0; i < hd / 2; ++i) {
        const int k = h * hd + 2 * i;
        const double x0 = orig[k], x1 = orig[k + 1];
        const double r = std::hypot(x0, x1);
        const double theta = static_cast<double>(pos) * std::pow(base, -2.0 * i / hd);
        const double tol =
            1.25 * ((2 * i + 1) * kU * theta * r + 4 * kU * (std::fabs(x0) + std::fabs(x1))) +
            1e-30;
        ASSERT_NEAR(x[k], ref[k], tol) << "pos=" << pos << " h=" << h << " i=" << i;
        ASSERT_NEAR(x[k + 1], ref[k + 1], tol) << "pos=" << pos << " h=" << h << " i=" << i;
      }
    }
  }
}

// The tolerance above must not hide a wrong rotation: NEOX pairing (i, i + hd/2) or a wrong
// base gives errors far above it at a moderate position.
TEST_F(OpsTest, RopeToleranceDetectsWrongStyle) {
  const int hd = 128;
  auto x = random_floats(hd, -2.0f, 2.0f, 99);
  std::vector<double> ref(hd), wrong_base(hd);
  rope_reference(x.data(), ref.data(), 1, hd, 1000, 5e6);
  rope_reference(x.data(), wrong_base.data(), 1, hd, 1000, 1e4);
  rope_norm(x.data(), 1, hd, 1000, 5e6f);
  double max_err = 0, max_wrong = 0;
  for (int k = 0; k < hd; ++k) {
    max_err = std::max(max_err, std::fabs(x[k] - ref[k]));
    max_wrong = std::max(max_wrong, std::fabs(wrong_base[k] - ref[k]));
  }
  EXPECT_LT(max_err, 1e-3);
  EXPECT_GT(max_wrong, 0.1);
}

TEST_F(OpsTest, RopePositionZeroIsIdentity) {
  auto x = random_floats(16 * 128, -5.0f, 5.0f, 3);
  const auto orig = x;
  rope_norm(x.data(), 16, 128, 0, 5e6f);
  EXPECT_EQ(0, std::memcmp(x.data(), orig.data(), x.size() * sizeof(float)));
}

// Rotation preserves each pair's norm (to a few ulp), at any position.
TEST_F(OpsTest, RopePreservesPairNorms) {
  auto x = random_floats(4 * 64, -3.0f, 3.0f, 4);
  const auto orig = x;
  rope_norm(x.data(), 4, 64, 12345, 10000.0f);
  for (size_t k = 0; k < x.size(); k += 2) {
    const double before = std::hypot(orig[k], orig[k + 1]);
    const double after = std::hypot(x[k], x[k + 1]);
    ASSERT_NEAR(after, before, 8 * kU * before + 1e-30) << k;
  }
}

// What RoPE is for: the rotated q.k depends only on the position difference. Rotating q at p + d
// and k at p matches rotating at d and 0; the error grows with p through theta's float error
// (<= (2i+1) u theta_i per pair, see above), so we compare at p = 1000 with a loose 1e-3.
TEST_F(OpsTest, RopeDotDependsOnRelativePosition) {
  const int hd = 128;
  const auto q0 = random_floats(hd, -1.0f, 1.0f, 61);
  const auto k0 = random_floats(hd, -1.0f, 1.0f, 62);
  auto dot_at = [&](int64_t pq, int64_t pk) {
    auto q = q0, k = k0;
    rope_norm(q.data(), 1, hd, pq, 5e6f);
    rope_norm(k.data(), 1, hd, pk, 5e6f);
    double d = 0;
    for (int i = 0; i < hd; ++i) d += static_cast<double>(q[i]) * k[i];
    return d;
  };
  for (int64_t d : {1, 5, 77}) {
    EXPECT_NEAR(dot_at(1000 + d, 1000), dot_at(d, 0), 1e-3) << d;
  }
  EXPECT_GT(std::fabs(dot_at(77, 0) - dot_at(0, 0)), 1e-2);  // and it does depend on it
}

TEST_F(OpsTest, RopeTokensMatchesPerTokenAndThreads) {
  const int n_tokens = 19, n_heads = 4, hd = 128;
  const auto x = random_floats(static_cast<size_t>(n_tokens) * n_heads * hd, -1.0f, 1.0f, 9);
  std::vector<int64_t> pos(n_tokens);
  for (int t = 0; t < n_tokens; ++t) pos[t] = 1000 + 37 * t;
  auto one = x;
  for (int t = 0; t < n_tokens; ++t) {
    rope_norm(one.data() + static_cast<size_t>(t) * n_heads * hd, n_heads, hd, pos[t], 5e6f);
  }
  const int saved = omp_get_max_threads();
  for (int threads : {1, 2}) {
    omp_set_num_threads(threads);
    auto many = x;
    rope_norm_tokens(many.data(), n_tokens, n_heads, hd, pos.data(), 5e6f);
    EXPECT_EQ(0, std::memcmp(one.data(), many.data(), x.size() * sizeof(float))) << threads;
  }
  omp_set_num_threads(saved);
}

// ---- softmax ----------------------------------------------------------------------------------

// Error model: x - max rounds (abs. u |x - max|, which exp turns into a relative error), exp is
// within 4u (polynomial tiers), the sum runs in >= 8 float lanes (n/8 + 8 roundings at most; the
// scalar tier sums in double) and the division and final product add 2u. Tolerance:
// 1.5 * (|x - max| + n/8 + 14) u relative.
TEST_F(OpsTest, SoftmaxMatchesDoubleAndSumsToOne) {
  for (Isa isa : supported_isas()) {
    use(isa);
    for (int64_t n : kLengths) {
      for (float spread : {1.0f, 30.0f}) {
        for (float offset : {0.0f, 1000.0f, -1e5f}) {  // large inputs must not overflow
          auto x = random_floats(n + 1, -spread, spread, static_cast<uint32_t>(n * 7 + spread));
          for (auto& v : x) v += offset;
          const auto orig = x;
          softmax(x.data() + 1, n);
          double m = -std::numeric_limits<double>::infinity();
          for (int64_t i = 1; i <= n; ++i) m = std::max<double>(m, orig[i]);
          double sum = 0;
          for (int64_t i = 1; i <= n; ++i) sum += std::exp(orig[i] - m);
          double got_sum = 0;
          for (int64_t i = 1; i <= n; ++i) {
            const double ref = std::exp(orig[i] - m) / sum;
            const double tol = 1.5 * (std::fabs(orig[i] - m) + n / 8.0 + 14) * kU * ref + 1e-30;
            ASSERT_TRUE(std::isfinite(x[i]));
            ASSERT_NEAR(x[i], ref, tol) << isa_name(isa) << " n=" << n << " i=" << i;
            got_sum += x[i];
          }
          EXPECT_NEAR(got_sum, 1.0, (n / 8.0 + 14) * kU + n * kU) << isa_name(isa) << " n=" << n;
        }
      }
    }
  }
}

TEST_F(OpsTest, SoftmaxHandlesMinusInfinityEntries) {
  for (Isa isa : supported_isas()) {
    use(isa);
    std::vector<float> x(21, -std::numeric_limits<float>::infinity());
    x[4] = 1.0f;
    x[17] = 1.0f;
    softmax(x.data(), static_cast<int64_t>(x.size()));
    for (size_t i = 0; i < x.size(); ++i) {
      EXPECT_EQ(x[i], (i == 4 || i == 17) ? 0.5f : 0.0f) << isa_name(isa) << " i=" << i;
    }
  }
}

// A NaN activation must stay visible (poisoned output), not be clamped into a number.
TEST_F(OpsTest, NanPropagates) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (Isa isa : supported_isas()) {
    use(isa);
    std::vector<float> g(37, 0.5f), u(37, 1.0f), out(37);
    g[3] = nan;
    g[20] = nan;
    silu_mul(g.data(), u.data(), out.data(), 37);
    EXPECT_TRUE(std::isnan(out[3]) && std::isnan(out[20])) << isa_name(isa);
    EXPECT_FALSE(std::isnan(out[4])) << isa_name(isa);
    std::vector<float> x(37, 0.25f);
    x[19] = nan;
    softmax(x.data(), 37);
    EXPECT_TRUE(std::isnan(x[19])) << isa_name(isa);
  }
}

// ---- silu_mul, add ----------------------------------------------------------------------------

// silu(g) * u: exp within 4u, then 1 + e, the division and the product (u each); the relative
// error of e passes to g / (1 + e) damped by e / (1 + e) <= 1. Tolerance 8u relative.
TEST_F(OpsTest, SiluMulMatchesDouble) {
  for (Isa isa : supported_isas()) {
    use(isa);
    for (int64_t n : kLengths) {
      auto g = random_floats(n + 1, -20.0f, 20.0f, 31 + n);
      const auto u = random_floats(n + 1, -3.0f, 3.0f, 32 + n);
      if (n > 4) {  // extremes: saturation on both sides
        g[1] = -100.0f;
        g[2] = 100.0f;
        g[3] = -87.5f;
        g[4] = 0.0f;
      }
      std::vector<float> out(n + 1);
      silu_mul(g.data() + 1, u.data() + 1, out.data() + 1, n);
      for (int64_t i = 1; i <= n; ++i) {
        const double gd = g[i];
        const double ref = gd / (1.0 + std::exp(-gd)) * u[i];
        ASSERT_NEAR(out[i], ref, 8 * kU * std::fabs(ref) + 1e-35)
            << isa_name(isa) << " n=" << n << " g=" << g[i];
      }
    }
  }
}

TEST_F(OpsTest, AddIsExactAndInPlace) {
  for (Isa isa : supported_isas()) {
    use(isa);
    for (int64_t n : kLengths) {
      const auto a = random_floats(n + 1, -10.0f, 10.0f, 41 + n);
      const auto b = random_floats(n + 1, -10.0f, 10.0f, 42 + n);
      auto inplace = a;
      add(inplace.data() + 1, b.data() + 1, inplace.data() + 1, n);
      for (int64_t i = 1; i <= n; ++i) ASSERT_EQ(inplace[i], a[i] + b[i]) << isa_name(isa);
      ASSERT_EQ(inplace[0], a[0]);  // nothing written before the row
    }
  }
}

// Large element-wise ops are split over the threads: the split must not change a single bit,
// in place or not, including the odd tail and the rows' ends.
TEST_F(OpsTest, LargeSiluMulAndAddIndependentOfThreadCount) {
  const int64_t n = 5 * 16384 + 13;
  const auto g = random_floats(n, -20.0f, 20.0f, 51);
  const auto u = random_floats(n, -3.0f, 3.0f, 52);
  for (Isa isa : supported_isas()) {
    use(isa);
    std::vector<float> silu1(n), add1(n), silu4 = g, add4 = g;
    set_num_threads(1);
    silu_mul(g.data(), u.data(), silu1.data(), n);
    add(g.data(), u.data(), add1.data(), n);
    set_num_threads(4);
    silu_mul(silu4.data(), u.data(), silu4.data(), n);
    add(add4.data(), u.data(), add4.data(), n);
    set_num_threads(0);  // back to OpenMP's default
    EXPECT_EQ(0, std::memcmp(silu1.data(), silu4.data(), n * sizeof(float))) << isa_name(isa);
    EXPECT_EQ(0, std::memcmp(add1.data(), add4.data(), n * sizeof(float))) << isa_name(isa);
    for (int64_t i : {int64_t{0}, int64_t{16383}, int64_t{16384}, n - 1}) {
      const double ref = g[i] / (1.0 + std::exp(-static_cast<double>(g[i]))) * u[i];
      EXPECT_NEAR(silu1[i], ref, 8 * kU * std::fabs(ref) + 1e-35) << isa_name(isa) << " i=" << i;
      EXPECT_EQ(add1[i], g[i] + u[i]) << isa_name(isa) << " i=" << i;
    }
  }
}

// ---- f16 rows ---------------------------------------------------------------------------------

TEST_F(OpsTest, F16RowsBitExactInEveryTier) {
  // Random values across the f16 range plus the hard cases: ties, subnormals, overflow, inf, nan.
  std::vector<float> x = random_floats(4099, -70000.0f, 70000.0f, 51);
  const auto small = random_floats(1000, -1e-4f, 1e-4f, 52);
  x.insert(x.end(), small.begin(), small.end());
  for (float v :
       {0.0f, -0.0f, 65504.0f, 65520.0f, -65520.0f, 1e-8f, 5.96e-8f, 2.98e-8f,
        1.0f + 1.0f / 2048.0f, 1.0f + 3.0f / 2048.0f, std::numeric_limits<float>::infinity(),
        -std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN()}) {
    x.push_back(v);
  }
  const int64_t n = static_cast<int64_t>(x.size()) - 1;
  std::vector<uint16_t> ref(n);
  for (int64_t i = 0; i < n; ++i) ref[i] = fp32_to_fp16(x[i + 1]);
  std::vector<float> back_ref(n);
  for (int64_t i = 0; i < n; ++i) back_ref[i] = fp16_to_fp32(ref[i]);
  for (Isa isa : supported_isas()) {
    use(isa);
    for (int64_t len : {n, int64_t{1}, int64_t{7}, int64_t{15}, int64_t{17}, int64_t{33}}) {
      std::vector<uint16_t> half(len + 1);
      f32_to_f16_row(x.data() + 1, half.data() + 1, len);
      ASSERT_EQ(0, std::memcmp(half.data() + 1, ref.data(), len * sizeof(uint16_t)))
          << isa_name(isa) << " len=" << len;
      std::vector<float> back(len + 1);
      f16_to_f32_row(half.data() + 1, back.data() + 1, len);
      ASSERT_EQ(0, std::memcmp(back.data() + 1, back_ref.data(), len * sizeof(float)))
          << isa_name(isa) << " len=" << len;
    }
  }
}

}  // namespace
}  // namespace smol::kernels
