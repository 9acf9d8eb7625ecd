// The generation loop: stop strings, end-of-generation tokens, determinism, streaming.
#include "smol/generate.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "synth_tiny_suite.h"

namespace smol::engine {
namespace {

TEST(StopMatcher, CutsBeforeTheFirstMatchAcrossPieces) {
  StopMatcher m({"</end>", "STOP"});
  EXPECT_FALSE(m.push("hello </e"));
  EXPECT_EQ(m.safe_size(), 6u);  // "</e" is held back: it may become "</end>"
  EXPECT_FALSE(m.push("x"));     // "</ex" can no longer match
  EXPECT_EQ(m.safe_size(), 10u);
  EXPECT_TRUE(
      m.push(" and ST"
             "OP more"));
  EXPECT_EQ(m.text(), "hello </ex and ");
  EXPECT_EQ(m.safe_size(), m.text().size());
}

TEST(StopMatcher, NoStopsPassEverything) {
  StopMatcher m({});
  EXPECT_FALSE(m.push("abc"));
  EXPECT_EQ(m.safe_size(), 3u);
}

TEST(TopK, BestFirstTiesByLowerId) {
  std::vector<float> l = {1, 5, 3, 5, -1, 4};
  std::vector<std::pair<int32_t, float>> out;
  top_k_logits(l, 3, out);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].first, 1);
  EXPECT_EQ(out[1].first, 3);
  EXPECT_EQ(out[2].first, 5);
}

class SynthTinyGenerate : public testing::SynthTinySuite {
 protected:
  void SetUp() override {
    SynthTinySuite::SetUp();
    model_ = shared_;
  }
  Result<GenerateResult> run(const GenerateOptions& o,
                             std::vector<int32_t> prompt = {9906, 1917, 11}) {
    SessionOptions so;
    so.n_ctx = 256;
    auto s = Session::create(*model_, so);
    if (!s.ok()) return Error{s.error()};
    return generate(**s, prompt, o);
  }
  Model* model_ = nullptr;
};

TEST_F(SynthTinyGenerate, GreedyIsDeterministicAndRespectsMaxTokens) {
  GenerateOptions o;
  o.max_tokens = 12;
  o.top_logits = 3;
  auto a = run(o), b = run(o);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->ids, b->ids);
  EXPECT_LE(a->ids.size(), 12u);
  ASSERT_EQ(a->top.size(), a->ids.size());
  for (size_t i = 0; i < a->ids.size(); ++i) EXPECT_EQ(a->top[i][0].first, a->ids[i]);
  EXPECT_EQ(a->n_prompt, 3);
}

TEST_F(SynthTinyGenerate, SameSeedSameSample) {
  GenerateOptions o;
  o.max_tokens = 10;
  o.sampling.temperature = 1.0f;
  o.sampling.seed = 5;
  auto a = run(o), b = run(o);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->ids, b->ids);
}

TEST_F(SynthTinyGenerate, StopsOnEveryEndOfGenerationToken) {
  const auto* tok = model_->tokenizer();
  for (const char* name : {"<|im_end|>", "<|eot_id|>", "<|end_of_text|>", "<|eom_id|>"}) {
    auto id = tok->special_token(name);
    if (!id) continue;  // not in this vocabulary
    GenerateOptions o;
    o.max_tokens = 5;
    o.sampling.logit_bias = {{*id, 1000.0f}};  // force it as the first token
    auto r = run(o);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->stop_reason, StopReason::kEndOfGeneration) << name;
    EXPECT_EQ(r->ids, std::vector<int32_t>{*id});
    EXPECT_EQ(r->text, "");
  }
}

TEST_F(SynthTinyGenerate, StopStringCutsTheTextAndStreamingNeverShowsIt) {
  GenerateOptions o;
  o.max_tokens = 20;
  auto free_run = run(o);
  ASSERT_TRUE(free_run.ok());
  ASSERT_GE(free_run->text.size(), 6u);
  // Stop on a piece of what greedy decoding produces anyway.
  const std::string stop = free_run->text.substr(free_run->text.size() / 2, 3);
  o.stop = {stop};
  SessionOptions so;
  so.n_ctx = 256;
  auto s = Session::create(*model_, so);
  ASSERT_TRUE(s.ok());
  std::string streamed;
  auto r = generate(**s, std::vector<int32_t>{9906, 1917, 11}, o, [&](int32_t, std::string_view t) {
    streamed += t;
    return true;
  });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->stop_reason, StopReason::kStopString);
  EXPECT_EQ(r->text, free_run->text.substr(0, free_run->text.find(stop)));
  EXPECT_EQ(streamed, r->text);
}

TEST_F(SynthTinyGenerate, CallbackCancels) {
  GenerateOptions o;
  o.max_tokens = 20;
  SessionOptions so;
  so.n_ctx = 64;
  auto s = Session::create(*model_, so);
  ASSERT_TRUE(s.ok());
  int calls = 0;
  auto r = generate(**s, std::vector<int32_t>{1, 2, 3}, o,
                    [&](int32_t, std::string_view) { return ++calls < 3; });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->stop_reason, StopReason::kCancelled);
  EXPECT_EQ(r->ids.size(), 3u);
}

}  // namespace
}  // namespace smol::engine
