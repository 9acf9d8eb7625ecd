#include "smol/sampler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <vector>

namespace smol::engine {
namespace {

// Logits for ids 0..4 with a clear order: 3 > 1 > 4 > 0 > 2.
std::vector<float> five() { return {1.0f, 3.0f, 0.0f, 4.0f, 2.0f}; }

std::map<int32_t, int> histogram(const SamplerParams& params, std::vector<float> base, int draws) {
  Sampler s(params, static_cast<int>(base.size()));
  std::map<int32_t, int> h;
  for (int i = 0; i < draws; ++i) {
    auto logits = base;
    ++h[s.sample(logits)];
  }
  return h;
}

TEST(Sampler, GreedyPicksArgmaxAndLowestIdOnTies) {
  Sampler s({}, 5);
  auto l = five();
  EXPECT_EQ(s.sample(l), 3);
  std::vector<float> tie = {0.0f, 2.0f, 2.0f, 1.0f, 0.0f};
  EXPECT_EQ(s.sample(tie), 1);
}

TEST(Sampler, LogitBiasChangesTheWinner) {
  SamplerParams p;
  p.logit_bias = {{0, 10.0f}, {3, -100.0f}};
  Sampler s(p, 5);
  auto l = five();
  EXPECT_EQ(s.sample(l), 0);
  EXPECT_FLOAT_EQ(l[3], -96.0f);
}

TEST(Sampler, RepeatPenaltyDividesPositiveAndMultipliesNegative) {
  SamplerParams p;
  p.repeat_penalty = 2.0f;
  Sampler s(p, 5);
  s.accept(3);
  s.accept(3);  // counted once, whatever the count
  s.accept(0);
  std::vector<float> l = {-1.0f, 3.0f, 0.0f, 4.0f, 2.0f};
  EXPECT_EQ(s.sample(l), 1);
  EXPECT_FLOAT_EQ(l[3], 2.0f);
  EXPECT_FLOAT_EQ(l[0], -2.0f);
  EXPECT_FLOAT_EQ(l[1], 3.0f);
}

TEST(Sampler, PresenceAndFrequencyPenalties) {
  SamplerParams p;
  p.presence_penalty = 0.5f;
  p.frequency_penalty = 0.25f;
  Sampler s(p, 5);
  s.accept(3);
  s.accept(3);
  s.accept(1);
  auto l = five();
  s.sample(l);
  EXPECT_FLOAT_EQ(l[3], 4.0f - 0.5f - 2 * 0.25f);
  EXPECT_FLOAT_EQ(l[1], 3.0f - 0.5f - 0.25f);
  EXPECT_FLOAT_EQ(l[4], 2.0f);
}

TEST(Sampler, PenaltyWindowForgetsOldTokens) {
  SamplerParams p;
  p.presence_penalty = 1.0f;
  p.penalty_last_n = 2;
  Sampler s(p, 5);
  s.accept(3);
  s.accept(1);
  s.accept(4);  // 3 leaves the window
  auto l = five();
  s.sample(l);
  EXPECT_FLOAT_EQ(l[3], 4.0f);
  EXPECT_FLOAT_EQ(l[1], 2.0f);
  EXPECT_FLOAT_EQ(l[4], 1.0f);
  s.reset();
  l = five();
  s.sample(l);
  EXPECT_FLOAT_EQ(l[1], 3.0f);
}

TEST(Sampler, TopKOneIsGreedyAtAnyTemperature) {
  SamplerParams p;
  p.temperature = 5.0f;
  p.top_k = 1;
  auto h = histogram(p, five(), 200);
  EXPECT_EQ(h.size(), 1u);
  EXPECT_EQ(h[3], 200);
}

TEST(Sampler, TopKKeepsOnlyTheKBest) {
  SamplerParams p;
  p.temperature = 10.0f;  // nearly flat, so every survivor shows up
  p.top_k = 2;
  auto h = histogram(p, five(), 2000);
  EXPECT_EQ(h.size(), 2u);
  EXPECT_GT(h[3], 0);
  EXPECT_GT(h[1], 0);
}

TEST(Sampler, TopPKeepsTheSmallestNucleus) {
  // p = softmax(five): 0.636 (id 3), 0.234 (id 1), 0.086 (id 4), 0.032, 0.012.
  SamplerParams p;
  p.temperature = 1.0f;
  p.top_p = 0.85f;  // 0.636 + 0.234 = 0.870 >= 0.85: ids 3 and 1
  auto h = histogram(p, five(), 3000);
  EXPECT_EQ(h.size(), 2u);
  EXPECT_GT(h[1], 0);
  p.top_p = 0.5f;  // id 3 alone reaches it
  EXPECT_EQ(histogram(p, five(), 300).size(), 1u);
}

TEST(Sampler, MinPDropsUnlikelyTokens) {
  SamplerParams p;
  p.temperature = 1.0f;
  p.min_p = 0.1f;  // threshold 0.0636: keeps 3, 1, 4
  auto h = histogram(p, five(), 5000);
  EXPECT_EQ(h.size(), 3u);
  EXPECT_EQ(h.count(0), 0u);
  EXPECT_EQ(h.count(2), 0u);
}

// A vocabulary where the nucleus is far wider than the sampler's first sorted prefix (256):
// logits fall slowly with the id, shuffled so that id order is not logit order.
std::vector<float> wide(int n, std::vector<int32_t>& rank_to_id) {
  rank_to_id.resize(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) rank_to_id[static_cast<size_t>(i)] = (i * 7919) % n;  // n prime
  std::vector<float> logits(static_cast<size_t>(n));
  for (int r = 0; r < n; ++r)
    logits[static_cast<size_t>(rank_to_id[static_cast<size_t>(r)])] = -0.002f * r;
  return logits;
}

TEST(Sampler, TopPAndMinPOnAWideNucleus) {
  const int n = 2003;  // prime
  std::vector<int32_t> rank_to_id;
  const auto base = wide(n, rank_to_id);
  // Reference nucleus: softmax in double, smallest best-first prefix reaching top_p.
  std::vector<double> p(static_cast<size_t>(n));
  double z = 0;
  for (int r = 0; r < n; ++r) z += p[static_cast<size_t>(r)] = std::exp(-0.002 * r);
  SamplerParams params;
  params.temperature = 1.0f;
  params.top_p = 0.6f;
  int keep = 0;
  for (double c = 0; c < params.top_p; ++keep) c += p[static_cast<size_t>(keep)] / z;
  ASSERT_GT(keep, 256);  // the test must exercise the growing prefix
  std::vector<int> rank_of(static_cast<size_t>(n));
  for (int r = 0; r < n; ++r) rank_of[static_cast<size_t>(rank_to_id[static_cast<size_t>(r)])] = r;
  int worst = 0;
  for (const auto& [id, count] : histogram(params, base, 4000)) {
    worst = std::max(worst, rank_of[static_cast<size_t>(id)]);
  }
  EXPECT_LT(worst, keep);       // nothing outside the nucleus
  EXPECT_GT(worst, keep - 60);  // and its far end is reached

  // Min-p alone: p >= 0.5 p_max  <=>  rank <= ln 2 / 0.002 = 346.
  params.top_p = 1.0f;
  params.min_p = 0.5f;
  worst = 0;
  for (const auto& [id, count] : histogram(params, base, 4000)) {
    worst = std::max(worst, rank_of[static_cast<size_t>(id)]);
  }
  EXPECT_LE(worst, 346);
  EXPECT_GT(worst, 300);
}

TEST(Sampler, TemperatureOneMatchesSoftmaxFrequencies) {
  SamplerParams p;
  p.temperature = 1.0f;
  p.seed = 7;
  const int draws = 20000;
  auto h = histogram(p, five(), draws);
  const auto l = five();
  double z = 0;
  for (float x : l) z += std::exp(x);
  for (int id = 0; id < 5; ++id) {
    const double expect = std::exp(l[static_cast<size_t>(id)]) / z;
    const double sigma = std::sqrt(expect * (1 - expect) / draws);
    EXPECT_NEAR(h[id] / double(draws), expect, 5 * sigma + 1e-4) << "id " << id;
  }
}

TEST(Sampler, SameSeedSameSequenceDifferentSeedDiffers) {
  SamplerParams p;
  p.temperature = 1.5f;
  p.seed = 42;
  std::vector<float> flat(1000, 0.0f);
  auto run = [&](uint64_t seed) {
    p.seed = seed;
    Sampler s(p, 1000);
    std::vector<int32_t> out;
    for (int i = 0; i < 50; ++i) {
      auto l = flat;
      out.push_back(s.sample(l));
    }
    return out;
  };
  EXPECT_EQ(run(42), run(42));
  EXPECT_NE(run(42), run(43));
  // reset() restarts the same stream.
  p.seed = 9;
  Sampler s(p, 1000);
  auto l = flat;
  const int32_t first = s.sample(l);
  s.reset();
  l = flat;
  EXPECT_EQ(s.sample(l), first);
}

}  // namespace
}  // namespace smol::engine
