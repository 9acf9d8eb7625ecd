// Tests of the f16 KV cache and causal GQA attention in smol/ops.h against a naive
// double-precision reference (same f16-rounded q, k, v), for decode and prefill chunks, on every
// tier, with 1 and 2 threads.
#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "smol/fp16.h"
#include "smol/kernels.h"
#include "smol/ops.h"

extern "C" int openblas_get_num_threads(void);
#pragma weak openblas_get_num_threads

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

std::vector<float> random_floats(size_t n, float lo, float hi, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

double f16_round(float x) { return fp16_to_fp32(fp32_to_fp16(x)); }

struct Shape {
  int n_head, n_head_kv, head_dim, n_ctx;
};

// A cache filled for positions [0, n_filled) with random k/v; the rest holds a poison value
// (60000 in f16) that would dominate any output that reads past the causal limit.
struct TestCache {
  Shape shape;
  std::vector<uint16_t> k, v;
  KvCacheView view;

  TestCache(Shape s, int n_filled, uint32_t seed) : shape(s) {
    view.n_head_kv = s.n_head_kv;
    view.n_ctx = s.n_ctx;
    view.head_dim = s.head_dim;
    k.assign(view.elements(), fp32_to_fp16(60000.0f));
    v.assign(view.elements(), fp32_to_fp16(60000.0f));
    view.k = k.data();
    view.v = v.data();
    const size_t row = static_cast<size_t>(s.n_head_kv) * s.head_dim;
    const auto kk = random_floats(row * n_filled, -1.0f, 1.0f, seed);
    const auto vv = random_floats(row * n_filled, -1.0f, 1.0f, seed + 1);
    kv_store_tokens(view, 0, n_filled, kk.data(), vv.data());
  }
};

// Naive attention in double over the f16 values, q rounded to f16 when the kernel does it
// (batches of fewer than 64 tokens, as llama.cpp's one-chunk flash-attention kernel), and that
// kernel's f16 accumulator where the kernel reproduces it.
// Also returns, per (token, head), the error bound of the float kernel:
//   scores: |ds| <= hd u scale sum|q_i k_i| (+ u for the scale product), call it delta;
//   softmax: |dp_j| <= p_j (2 delta + (n + 8) u) (exp within 4u, sums of n terms);
//   output: |do| <= sum |dp_j| |v_j| + (n + 2) u sum p_j |v_j|.
// llama.cpp's one-chunk algorithm over the scores sc (the kernel's rule for it: fewer than 64
// tokens and pos0 + n_tokens <= 256): positions in order, the unnormalized V sum y rounded to f16
// after each rescale and each multiply-add. Replaces o with its result. The kernel computes the
// same steps from f32 scores, so the two differ only where a score's last bits flip one f16
// rounding of y: a few f16 units (2^-11 relative) of sum_j p_j |v_j|, added to the bound.
void one_chunk_reference(const std::vector<double>& sc, const TestCache& c, int g, double* o,
                         double* b) {
  const int hd = c.shape.head_dim;
  std::vector<float> y(hd, 0.0f);
  std::vector<double> mag(hd, 0.0);
  float m = -std::numeric_limits<float>::infinity();
  float sum = 0.0f;
  for (size_t j = 0; j < sc.size(); ++j) {
    const float sj = static_cast<float>(sc[j]);
    float ms = 1.0f, vs = 1.0f;
    if (sj > m) {
      const float m_old = m;
      m = sj;
      ms = std::exp(m_old - m);
      for (float& yd : y) yd = static_cast<float>(f16_round(yd * ms));
    } else {
      vs = std::exp(sj - m);
    }
    const uint16_t* vj = c.v.data() + c.view.offset(g, static_cast<int64_t>(j));
    for (int d = 0; d < hd; ++d) {
      y[d] = static_cast<float>(f16_round(y[d] + fp16_to_fp32(vj[d]) * vs));
      mag[d] = mag[d] * ms + vs * std::fabs(fp16_to_fp32(vj[d]));
    }
    sum = sum * ms + vs;
  }
  for (int d = 0; d < hd; ++d) {
    o[d] = static_cast<double>(y[d]) * (1.0 / sum);
    b[d] += 4.0 / 2048.0 * mag[d] / sum;
  }
}

void reference(const float* q, const TestCache& c, int64_t pos0, int n_tokens, double scale,
               std::vector<double>& out, std::vector<double>& bound) {
  const bool one_chunk = n_tokens < 64 && pos0 + n_tokens <= 256;
  const Shape s = c.shape;
  const int hd = s.head_dim, group = s.n_head / s.n_head_kv;
  out.assign(static_cast<size_t>(n_tokens) * s.n_head * hd, 0.0);
  bound.assign(out.size(), 0.0);
  for (int t = 0; t < n_tokens; ++t) {
    const int64_t n_kv = pos0 + t + 1;
    for (int h = 0; h < s.n_head; ++h) {
      const int g = h / group;
      const float* qh = q + (static_cast<size_t>(t) * s.n_head + h) * hd;
      std::vector<double> qr(hd), sc(n_kv), mag(n_kv);
      for (int d = 0; d < hd; ++d) qr[d] = n_tokens < 64 ? f16_round(qh[d]) : qh[d];
      double m = -1e300;
      for (int64_t j = 0; j < n_kv; ++j) {
        const uint16_t* kj = c.k.data() + c.view.offset(g, j);
        double dot = 0, abs_dot = 0;
        for (int d = 0; d < hd; ++d) {
          const double prod = qr[d] * fp16_to_fp32(kj[d]);
          dot += prod;
          abs_dot += std::fabs(prod);
        }
        sc[j] = dot * scale;
        mag[j] = abs_dot * scale;
        m = std::max(m, sc[j]);
      }
      double sum = 0, delta = 0;
      for (int64_t j = 0; j < n_kv; ++j) {
        sum += std::exp(sc[j] - m);
        delta = std::max(delta, (hd + 1) * kU * mag[j]);
      }
      const double p_rel = 2 * delta + (n_kv + 8) * kU;
      double* o = out.data() + (static_cast<size_t>(t) * s.n_head + h) * hd;
      double* b = bound.data() + (static_cast<size_t>(t) * s.n_head + h) * hd;
      for (int64_t j = 0; j < n_kv; ++j) {
        const double p = std::exp(sc[j] - m) / sum;
        const uint16_t* vj = c.v.data() + c.view.offset(g, j);
        for (int d = 0; d < hd; ++d) {
          const double vd = fp16_to_fp32(vj[d]);
          o[d] += p * vd;
          b[d] += p * std::fabs(vd) * (p_rel + (n_kv + 2) * kU);
        }
      }
      if (one_chunk) one_chunk_reference(sc, c, g, o, b);
    }
  }
}

class AttentionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    saved_isa_ = active_isa();
    saved_threads_ = omp_get_max_threads();
  }
  void TearDown() override {
    ASSERT_TRUE(set_isa(saved_isa_).ok());
    omp_set_num_threads(saved_threads_);
  }

  // Runs attention for n_tokens queries at pos0 on a cache filled up to pos0 + n_tokens and
  // checks every output against the reference bound (x 1.5 for second-order terms).
  static void check(Shape s, int64_t pos0, int n_tokens, uint32_t seed) {
    const TestCache cache(s, static_cast<int>(pos0) + n_tokens, seed);
    const size_t row = static_cast<size_t>(s.n_head) * s.head_dim;
    const auto q = random_floats(row * n_tokens, -1.0f, 1.0f, seed + 7);
    const double scale = 1.0 / std::sqrt(static_cast<double>(s.head_dim));
    std::vector<double> ref, bound;
    reference(q.data(), cache, pos0, n_tokens, scale, ref, bound);
    std::vector<float> scratch(attention_scratch_floats(cache.view, s.n_head, 2));
    for (Isa isa : supported_isas()) {
      ASSERT_TRUE(set_isa(isa).ok());
      // +1 / +3: misaligned q and out.
      std::vector<float> qbuf(q.size() + 1), out(q.size() + 3, -1.0f);
      std::copy(q.begin(), q.end(), qbuf.begin() + 1);
      attention(qbuf.data() + 1, cache.view, s.n_head, pos0, n_tokens, static_cast<float>(scale),
                out.data() + 3, scratch.data(), scratch.size());
      double worst = 0;
      for (size_t i = 0; i < ref.size(); ++i) {
        const double err = std::fabs(out[i + 3] - ref[i]);
        const double tol = 1.5 * bound[i] + 1e-30;
        worst = std::max(worst, err / tol);
        ASSERT_LE(err, tol) << isa_name(isa) << " pos0=" << pos0 << " n_tokens=" << n_tokens
                            << " token=" << i / row << " head=" << (i % row) / s.head_dim;
      }
      EXPECT_EQ(out[0], -1.0f);  // nothing written before out
    }
  }

 private:
  Isa saved_isa_ = Isa::kScalar;
  int saved_threads_ = 1;
};

const Shape kSmol{16, 4, 128, 700};  // SmolLM3 heads, a small context

TEST_F(AttentionTest, DecodeMatchesReference) {
  for (int64_t pos0 : {0, 1, 2, 3, 4, 5, 17, 255, 256, 257, 511, 699}) {
    check(kSmol, pos0, 1, static_cast<uint32_t>(100 + pos0));
  }
}

TEST_F(AttentionTest, PrefillFromStartMatchesReference) {
  for (int n : {2, 3, 31, 32, 33, 100, 260}) check(kSmol, 0, n, static_cast<uint32_t>(200 + n));
}

TEST_F(AttentionTest, PrefillChunkAfterCachedPrefixMatchesReference) {
  check(kSmol, 1, 5, 301);
  check(kSmol, 37, 64, 302);
  check(kSmol, 255, 2, 303);
  check(kSmol, 250, 40, 304);  // crosses the 256-position block inside one tile
  check(kSmol, 600, 70, 305);
}

// Odd shapes: group of 3 query heads (NR tails), head_dim 64 and 40 (not a multiple of the
// AVX-512 width: the tier falls back to scalar for the dot loops), MHA (group 1).
TEST_F(AttentionTest, OddShapes) {
  check({6, 2, 64, 300}, 0, 1, 401);
  check({6, 2, 64, 300}, 131, 1, 402);
  check({6, 2, 64, 300}, 40, 70, 403);
  check({3, 1, 40, 100}, 57, 1, 404);
  check({3, 1, 40, 100}, 10, 33, 405);
  check({2, 2, 16, 50}, 20, 1, 406);
  check({2, 2, 16, 50}, 5, 40, 407);
}

TEST_F(AttentionTest, LongContextDecode) { check({16, 4, 128, 4100}, 4099, 1, 501); }

// The reference bound must be tight enough to catch a causal-mask off-by-one: leaking just the
// next position (random data) moves outputs far beyond it.
TEST_F(AttentionTest, BoundDetectsOffByOneMask) {
  const Shape s{4, 1, 64, 64};
  const TestCache cache(s, 20, 9);
  const auto q = random_floats(static_cast<size_t>(s.n_head) * s.head_dim, -1.0f, 1.0f, 10);
  std::vector<double> ref, bound, leak, leak_bound;
  reference(q.data(), cache, 10, 1, 0.125, ref, bound);
  reference(q.data(), cache, 11, 1, 0.125, leak, leak_bound);  // sees one position more
  double max_ratio = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    max_ratio = std::max(max_ratio, std::fabs(leak[i] - ref[i]) / (1.5 * bound[i]));
  }
  EXPECT_GT(max_ratio, 100.0);
}

TEST_F(AttentionTest, ResultsIndependentOfThreadCount) {
  const Shape s{16, 4, 128, 600};
  const TestCache cache(s, 600, 601);
  const size_t row = static_cast<size_t>(s.n_head) * s.head_dim;
  const auto q = random_floats(row * 200, -1.0f, 1.0f, 602);
  std::vector<float> scratch(attention_scratch_floats(cache.view, s.n_head, 2));
  for (Isa isa : supported_isas()) {
    ASSERT_TRUE(set_isa(isa).ok());
    for (auto [pos0, n] : {std::pair<int64_t, int>{599, 1}, {400, 200}}) {
      std::vector<float> a(row * n), b(row * n);
      omp_set_num_threads(1);
      attention(q.data(), cache.view, s.n_head, pos0, n, 0.088f, a.data(), scratch.data(),
                scratch.size());
      omp_set_num_threads(2);
      attention(q.data(), cache.view, s.n_head, pos0, n, 0.088f, b.data(), scratch.data(),
                scratch.size());
      EXPECT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * sizeof(float)))
          << isa_name(isa) << " n=" << n;
    }
  }
}

// A scratch sized for one thread still works with more threads available (it caps the team).
TEST_F(AttentionTest, OneThreadScratchIsEnough) {
  const Shape s{16, 4, 128, 300};
  const TestCache cache(s, 300, 701);
  const size_t row = static_cast<size_t>(s.n_head) * s.head_dim;
  const auto q = random_floats(row * 50, -1.0f, 1.0f, 702);
  std::vector<float> small(attention_scratch_floats(cache.view, s.n_head, 1));
  std::vector<float> big(attention_scratch_floats(cache.view, s.n_head, 2));
  std::vector<float> a(row * 50), b(row * 50);
  omp_set_num_threads(2);
  attention(q.data(), cache.view, s.n_head, 250, 50, 0.088f, a.data(), small.data(), small.size());
  attention(q.data(), cache.view, s.n_head, 250, 50, 0.088f, b.data(), big.data(), big.size());
  EXPECT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * sizeof(float)));
}

// Prefill of a chunk and token-by-token decode agree to float rounding.
TEST_F(AttentionTest, PrefillAgreesWithDecodeLoop) {
  const Shape s{16, 4, 128, 400};
  const TestCache cache(s, 400, 801);
  const size_t row = static_cast<size_t>(s.n_head) * s.head_dim;
  const int n = 70;
  const int64_t pos0 = 300;
  const auto q = random_floats(row * n, -1.0f, 1.0f, 802);
  std::vector<float> scratch(attention_scratch_floats(cache.view, s.n_head, 2));
  std::vector<float> pre(row * n), dec(row * n);
  attention(q.data(), cache.view, s.n_head, pos0, n, 0.088f, pre.data(), scratch.data(),
            scratch.size());
  for (int t = 0; t < n; ++t) {
    attention(q.data() + t * row, cache.view, s.n_head, pos0 + t, 1, 0.088f, dec.data() + t * row,
              scratch.data(), scratch.size());
  }
  for (size_t i = 0; i < pre.size(); ++i) ASSERT_NEAR(pre[i], dec[i], 2e-5) << i;
}

// Prefill runs OpenBLAS single-threaded but must leave its thread count as it found it.
TEST_F(AttentionTest, PrefillRestoresBlasThreadCount) {
  if (!openblas_get_num_threads) GTEST_SKIP() << "BLAS is not OpenBLAS";
  const int before = openblas_get_num_threads();
  const Shape s{16, 4, 128, 64};
  const TestCache cache(s, 64, 901);
  const auto q = random_floats(static_cast<size_t>(s.n_head) * s.head_dim * 8, -1.0f, 1.0f, 902);
  std::vector<float> out(q.size());
  std::vector<float> scratch(attention_scratch_floats(cache.view, s.n_head, 2));
  attention(q.data(), cache.view, s.n_head, 56, 8, 0.088f, out.data(), scratch.data(),
            scratch.size());
  EXPECT_EQ(openblas_get_num_threads(), before);
}

TEST_F(AttentionTest, KvStoreLayout) {
  const Shape s{8, 2, 32, 10};
  TestCache cache(s, 0, 1);
  const auto k = random_floats(2 * 2 * 32, -4.0f, 4.0f, 2);
  const auto v = random_floats(2 * 2 * 32, -4.0f, 4.0f, 3);
  kv_store_tokens(cache.view, 6, 2, k.data(), v.data());
  for (int t = 0; t < 2; ++t) {
    for (int g = 0; g < 2; ++g) {
      for (int d = 0; d < 32; ++d) {
        const size_t src = (static_cast<size_t>(t) * 2 + g) * 32 + d;
        const size_t dst = (static_cast<size_t>(g) * 10 + 6 + t) * 32 + d;  // [g][pos][d]
        ASSERT_EQ(cache.k[dst], fp32_to_fp16(k[src]));
        ASSERT_EQ(cache.v[dst], fp32_to_fp16(v[src]));
      }
    }
  }
  EXPECT_EQ(cache.k[cache.view.offset(0, 5)], fp32_to_fp16(60000.0f));  // untouched
}

}  // namespace
}  // namespace smol::kernels
