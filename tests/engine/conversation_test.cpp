// Conversation: KV prefix reuse across turns (the cached prefix is not evaluated again, and the
// logits equal those of a cold session on the whole prompt), overflow refusal, drop-oldest,
// cancellation, /clear, and the message JSON format. Runs on the synth_tiny fixture with whatever
// chat template it embeds (the real SmolLM3 one when ../shared was present at configure time).
#include "smol/conversation.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "synth_tiny_suite.h"

namespace smol::engine {
namespace {

TEST(MessagesJson, RoundTripAndErrors) {
  std::vector<ChatMessage> m = {{"system", "be brief", ""},
                                {"user", "hi", ""},
                                {"assistant", "hello", "the user greets"},
                                {"tool", "42", ""}};
  auto back = messages_from_json(messages_to_json(m));
  ASSERT_TRUE(back.ok()) << back.error();
  ASSERT_EQ(back->size(), m.size());
  for (size_t i = 0; i < m.size(); ++i) {
    EXPECT_EQ((*back)[i].role, m[i].role);
    EXPECT_EQ((*back)[i].content, m[i].content);
    EXPECT_EQ((*back)[i].reasoning, m[i].reasoning);
  }
  EXPECT_FALSE(messages_to_json(m)[1].contains("reasoning_content"));

  auto wrapped = messages_from_json(chat::Json::parse(R"({"messages":[{"role":"user"}]})"));
  ASSERT_TRUE(wrapped.ok());
  EXPECT_EQ((*wrapped)[0].content, "");

  struct Bad {
    const char* json;
    const char* expect;
  };
  for (const Bad& b :
       {Bad{R"({"a":1})", "expected a JSON array"}, Bad{R"([1])", "message 0: not an object"},
        Bad{R"([{"content":"x"}])", "message 0: missing string \"role\""},
        Bad{R"([{"role":"user","content":5}])", "\"content\" must be a string"},
        Bad{R"([{"role":"robot","content":""}])", "unknown role 'robot'"},
        Bad{R"([{"role":"user"},{"role":"system"}])", "message 1: a system"}}) {
    auto r = messages_from_json(chat::Json::parse(b.json));
    ASSERT_FALSE(r.ok()) << b.json;
    EXPECT_NE(r.error().find(b.expect), std::string::npos) << r.error();
  }
}

class ConversationTest : public testing::SynthTinySuite {
 protected:
  static ConversationOptions fixed_options() {
    ConversationOptions o;
    o.enable_thinking = false;  // short system header; the no-think prompt closes the think block
    o.now = [] { return *chat::parse_date("09 July 2025"); };
    return o;
  }

  static std::unique_ptr<Conversation> make(int n_ctx, ConversationOptions o = fixed_options()) {
    SessionOptions so;
    so.n_ctx = n_ctx;
    auto c = Conversation::create(*shared_, so, std::move(o));
    EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error());
    return c.ok() ? std::move(*c) : nullptr;
  }

  static TurnOptions turn(int max_tokens) {
    TurnOptions t;
    t.generate.max_tokens = max_tokens;
    return t;
  }

  // Logits of a fresh session that evaluates `prompt` in one call.
  static std::vector<float> cold_logits(const std::vector<int32_t>& prompt, int n_ctx) {
    SessionOptions so;
    so.n_ctx = n_ctx;
    auto s = Session::create(*shared_, so);
    EXPECT_TRUE(s.ok());
    Status st = (*s)->eval(prompt);
    EXPECT_TRUE(st.ok()) << st.error();
    auto l = (*s)->logits();
    return {l.begin(), l.end()};
  }

  // Warm logits against a cold session that evaluates the whole prompt in ONE call. They are
  // close, not bit-identical, and cannot be: the kernels' numerics depend on the shape of each
  // eval call, as llama.cpp's do (the prefill attention multiplies a tile of queries with one
  // sgemm whose row count depends on where the call started, and the kernels round q to f16 or
  // not depending on the micro-batch size, as llama.cpp's flash attention does), and the next
  // Q8_K activation quantization can turn a last-bit difference into a whole rounding step that
  // the synthetic model's random weights amplify layer by layer. Measured: cosine 0.9982 to 1,
  // max |diff| up to ~1 on logits of magnitude ~17; a top-1 flip can happen. So this is only a
  // sanity bound; exactness is checked against replay() below.
  static void expect_near_cold(std::span<const float> warm, std::span<const float> cold) {
    ASSERT_EQ(warm.size(), cold.size());
    double dot = 0, na = 0, nb = 0, worst = 0;
    for (size_t i = 0; i < cold.size(); ++i) {
      dot += double(warm[i]) * cold[i];
      na += double(warm[i]) * warm[i];
      nb += double(cold[i]) * cold[i];
      worst = std::max(worst, std::abs(double(warm[i]) - cold[i]));
    }
    const double cosine = dot / std::sqrt(na * nb);
    EXPECT_GE(cosine, 0.99) << "max |diff| " << worst;
    std::printf("[ logits   ] warm vs one-call cold: cosine %.9f, max |diff| %g\n", cosine, worst);
  }

  static bool bit_identical(std::span<const float> a, std::span<const float> b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size_bytes()) == 0;
  }

  // What each turn did to the cache, from its stats and tokens(): truncate to cached_tokens,
  // evaluate the rest of the prompt in one call, then the generated ids that entered the cache one
  // at a time. Replaying that on a fresh session must give the warm logits bit for bit: if
  // tokens() or the reuse bookkeeping were off by anything, the replay would evaluate other
  // tokens than the cache holds.
  struct Step {
    int keep = 0;
    std::vector<int32_t> prompt_rest;
    std::vector<int32_t> decoded;
  };
  std::vector<Step> history_;

  Result<TurnResult> record(Result<TurnResult> r, const Conversation& c) {
    if (!r) return r;
    const auto& t = c.tokens();
    const size_t keep = static_cast<size_t>(r->stats.cached_tokens);
    const size_t end = static_cast<size_t>(r->stats.prompt_tokens);
    EXPECT_LE(end, t.size());
    if (end > t.size()) return r;
    history_.push_back({r->stats.cached_tokens,
                        std::vector<int32_t>(t.begin() + keep, t.begin() + end),
                        std::vector<int32_t>(t.begin() + end, t.end())});
    return r;
  }
  Result<TurnResult> send(Conversation& c, std::string_view text, const TurnOptions& t,
                          const TurnCallback& cb = {}) {
    return record(c.send(text, t, cb), c);
  }
  Result<TurnResult> respond(Conversation& c, const TurnOptions& t) {
    return record(c.respond(t), c);
  }
  std::vector<float> replay(int n_ctx) const {
    SessionOptions so;
    so.n_ctx = n_ctx;
    auto s = Session::create(*shared_, so);
    EXPECT_TRUE(s.ok());
    for (const Step& step : history_) {
      EXPECT_TRUE((*s)->truncate(step.keep).ok());
      EXPECT_TRUE((*s)->eval(step.prompt_rest).ok());
      for (size_t i = 0; i < step.decoded.size(); ++i) {
        EXPECT_TRUE((*s)->eval(std::span(step.decoded).subspan(i, 1)).ok());
      }
    }
    auto l = (*s)->logits();
    return {l.begin(), l.end()};
  }

  // The acceptance comparison after a prefill-only turn (max_tokens 0).
  void expect_cold_equivalent(Conversation& c, const std::vector<int32_t>& prompt, int n_ctx) {
    EXPECT_TRUE(bit_identical(c.session().logits(), replay(n_ctx)))
        << "warm logits differ from a replay of the same eval calls";
    expect_near_cold(c.session().logits(), cold_logits(prompt, n_ctx));
  }
};

// The acceptance test of issue 6: turn 2 prefills only the new tokens and its logits are those
// of a cold run of the whole turn-2 prompt.
TEST_F(ConversationTest, SecondTurnPrefillsOnlyNewTokensWithColdLogits) {
  constexpr int kCtx = 1024;
  auto conv = make(kCtx);
  ASSERT_TRUE(conv);
  auto t1 = send(*conv, "Hello there, who are you?", turn(12));
  ASSERT_TRUE(t1.ok()) << t1.error();
  EXPECT_EQ(t1->stats.cached_tokens, 0);
  EXPECT_EQ(t1->stats.evaluated_tokens, t1->stats.prompt_tokens);
  EXPECT_EQ(static_cast<int>(conv->tokens().size()), conv->session().n_past());

  // Count the tokens the forward pass really sees (the embedding lookup runs once per token).
  int evaluated = 0;
  conv->session().set_hook([&](std::string_view name, int, int n_tokens, int, const float*) {
    if (name == "embd") evaluated += n_tokens;
  });
  ASSERT_TRUE(conv->add({"user", "And what can you do for me today?", ""}).ok());
  auto prompt2 = conv->prompt_tokens();
  ASSERT_TRUE(prompt2.ok()) << prompt2.error();
  // The cache before turn 2 = turn-1 prompt + evaluated answer ids; count the common prefix.
  size_t lcp = 0;
  while (lcp < prompt2->size() && lcp < conv->tokens().size() &&
         (*prompt2)[lcp] == conv->tokens()[lcp]) {
    ++lcp;
  }
  auto t2 =
      respond(*conv, turn(0));  // prefill only: the logits stay those of the last prompt token
  ASSERT_TRUE(t2.ok()) << t2.error();
  conv->session().set_hook({});
  const TurnStats& s = t2->stats;
  EXPECT_EQ(s.prompt_tokens, static_cast<int>(prompt2->size()));
  EXPECT_EQ(s.cached_tokens, static_cast<int>(lcp));
  // Everything up to the turn-1 generation prompt is unchanged by the rendering of turn 2.
  EXPECT_GE(s.cached_tokens, t1->stats.prompt_tokens - 1);
  EXPECT_GT(s.cached_tokens, 0);
  EXPECT_EQ(s.evaluated_tokens, s.prompt_tokens - s.cached_tokens);
  EXPECT_EQ(evaluated, s.prompt_tokens - s.cached_tokens);
  EXPECT_EQ(conv->tokens(), *prompt2);
  EXPECT_EQ(conv->session().n_past(), s.prompt_tokens);

  // Bit for bit equal to a fresh session replaying the same eval calls (turn-1 prompt in one call,
  // the evaluated answer ids one by one, truncate to the reused prefix, the new tokens in one
  // call); close to a fresh session evaluating the whole turn-2 prompt in one call (see
  // expect_near_cold for why that cannot be bit for bit).
  expect_cold_equivalent(*conv, *prompt2, kCtx);
}

TEST_F(ConversationTest, ThirdTurnAfterGenerationAlsoMatchesCold) {
  constexpr int kCtx = 1024;
  auto conv = make(kCtx);
  ASSERT_TRUE(conv);
  ASSERT_TRUE(send(*conv, "one", turn(10)).ok());
  ASSERT_TRUE(send(*conv, "two", turn(10)).ok());
  ASSERT_TRUE(conv->add({"user", "three", ""}).ok());
  auto prompt = conv->prompt_tokens();
  ASSERT_TRUE(prompt.ok());
  auto t = respond(*conv, turn(0));
  ASSERT_TRUE(t.ok()) << t.error();
  EXPECT_GT(t->stats.cached_tokens, 0);
  expect_cold_equivalent(*conv, *prompt, kCtx);
}

TEST_F(ConversationTest, ThinkingModeRecordsReasoningApartFromContent) {
  ConversationOptions o = fixed_options();
  o.enable_thinking = true;
  auto conv = make(2048, o);
  ASSERT_TRUE(conv);
  std::string streamed_reasoning, streamed_answer;
  auto t = conv->send("hi", turn(16), [&](const chat::OutputEvent& e) {
    if (e.kind == chat::OutputEventKind::kReasoning) streamed_reasoning += e.text;
    if (e.kind == chat::OutputEventKind::kAnswer) streamed_answer += e.text;
  });
  ASSERT_TRUE(t.ok()) << t.error();
  EXPECT_EQ(t->message.reasoning, streamed_reasoning);
  EXPECT_EQ(conv->messages().back().role, "assistant");
  EXPECT_EQ(conv->messages().back().reasoning, streamed_reasoning);
  EXPECT_EQ(static_cast<int>(conv->tokens().size()), conv->session().n_past());
}

TEST_F(ConversationTest, EarlierReasoningIsLeftToTheTemplate) {
  auto conv = make(1024);
  ASSERT_TRUE(conv);
  ASSERT_TRUE(conv->set_messages({{"user", "2+2?", ""},
                                  {"assistant", "It is 4.", "SECRET-REASONING"},
                                  {"user", "and 3+3?", ""}})
                  .ok());
  auto prompt = conv->render_prompt();
  ASSERT_TRUE(prompt.ok()) << prompt.error();
  // Earlier turns show their answer only (SmolLM3 and ChatML both ignore reasoning_content).
  EXPECT_NE(prompt->find("It is 4."), std::string::npos);
  EXPECT_EQ(prompt->find("SECRET-REASONING"), std::string::npos);
}

TEST_F(ConversationTest, OverflowIsRefusedAndLeavesEverythingUnchanged) {
  auto probe = make(4096);
  ASSERT_TRUE(probe);
  ASSERT_TRUE(probe->add({"user", "hello", ""}).ok());
  const int first_len = static_cast<int>(probe->prompt_tokens()->size());

  // Room for turn 1 and its answer, not for a long turn 2.
  const int ctx = first_len + 48;
  auto conv = make(ctx);
  ASSERT_TRUE(conv);
  ASSERT_TRUE(conv->send("hello", turn(8)).ok());
  const auto messages = conv->messages();
  const auto tokens = conv->tokens();
  const int n_past = conv->session().n_past();

  std::string long_text;
  for (int i = 0; i < 80; ++i) long_text += "word ";
  auto r = conv->send(long_text, turn(8));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("tokens but the context size is " + std::to_string(ctx)),
            std::string::npos)
      << r.error();
  EXPECT_NE(r.error().find("the prompt is "), std::string::npos) << r.error();
  ASSERT_EQ(conv->messages().size(), messages.size());
  for (size_t i = 0; i < messages.size(); ++i) {
    EXPECT_EQ(conv->messages()[i].content, messages[i].content);
  }
  EXPECT_EQ(conv->tokens(), tokens);
  EXPECT_EQ(conv->session().n_past(), n_past);
  // And the conversation still works afterwards.
  auto after = conv->send("ok", turn(4));
  EXPECT_TRUE(after.ok()) << after.error();
}

TEST_F(ConversationTest, DropOldestKeepsTheSystemPrompt) {
  ConversationOptions o = fixed_options();
  o.drop_oldest = true;
  o.min_free_tokens = 8;
  auto probe = make(4096, o);
  ASSERT_TRUE(probe);
  probe->set_system("You are terse.");
  ASSERT_TRUE(probe->add({"user", "question number 0 about the weather", ""}).ok());
  const int first_len = static_cast<int>(probe->prompt_tokens()->size());

  const int ctx = first_len + 60;  // about two more turns fit
  auto conv = make(ctx, o);
  ASSERT_TRUE(conv);
  conv->set_system("You are terse.");
  int dropped_total = 0;
  for (int i = 0; i < 6; ++i) {
    auto t = conv->send("question number " + std::to_string(i) + " about the weather", turn(8));
    ASSERT_TRUE(t.ok()) << "turn " << i << ": " << t.error();
    dropped_total += t->stats.dropped_messages;
    EXPECT_LE(t->stats.prompt_tokens + o.min_free_tokens, ctx);
    ASSERT_FALSE(conv->messages().empty());
    EXPECT_EQ(conv->messages().front().role, "system");
    EXPECT_EQ(conv->messages().front().content, "You are terse.");
    EXPECT_EQ(conv->messages()[conv->messages().size() - 2].content,
              "question number " + std::to_string(i) + " about the weather");
    EXPECT_EQ(static_cast<int>(conv->tokens().size()), conv->session().n_past());
  }
  EXPECT_GT(dropped_total, 0);
  // Dropped turns go whole: user messages and their replies alternate after the system prompt.
  for (size_t i = 1; i < conv->messages().size(); ++i) {
    EXPECT_EQ(conv->messages()[i].role, i % 2 == 1 ? "user" : "assistant") << i;
  }

  // A single message longer than the context cannot be helped by dropping.
  std::string huge;
  for (int i = 0; i < ctx; ++i) huge += "word ";
  const size_t before = conv->messages().size();
  auto r = conv->send(huge, turn(4));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("even with every earlier turn dropped"), std::string::npos) << r.error();
  EXPECT_EQ(conv->messages().size(), before);  // nothing was dropped for nothing
}

TEST_F(ConversationTest, CancelledTurnKeepsPartialTextAndAConsistentCache) {
  constexpr int kCtx = 1024;
  auto conv = make(kCtx);
  ASSERT_TRUE(conv);
  std::atomic<bool> stop{false};
  TurnOptions t = turn(64);
  t.generate.stop_flag = &stop;
  t.generate.stop_at_eog = false;  // the synthetic model must not end the turn by itself
  std::string streamed_answer, streamed_reasoning;
  int events = 0;
  auto r = send(*conv, "tell me a long story", t, [&](const chat::OutputEvent& e) {
    if (e.kind == chat::OutputEventKind::kAnswer) streamed_answer += e.text;
    if (e.kind == chat::OutputEventKind::kReasoning) streamed_reasoning += e.text;
    if (++events == 3) stop = true;  // as a SIGINT handler would, mid-answer
  });
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->stats.stop_reason, StopReason::kCancelled);
  EXPECT_LT(r->stats.generated_tokens, 64);
  EXPECT_GT(r->stats.generated_tokens, 0);
  EXPECT_FALSE(streamed_answer.empty() && streamed_reasoning.empty());
  // What was shown is what was kept.
  EXPECT_EQ(r->message.content, streamed_answer);
  EXPECT_EQ(r->message.reasoning, streamed_reasoning);
  EXPECT_EQ(conv->messages().back().role, "assistant");
  EXPECT_EQ(conv->messages().back().content, r->message.content);
  EXPECT_EQ(static_cast<int>(conv->tokens().size()), conv->session().n_past());
  EXPECT_EQ(conv->session().n_past(), r->stats.prompt_tokens + r->stats.n_decode);

  // The next turn reuses the cache and still computes what a cold run computes.
  stop = false;
  ASSERT_TRUE(conv->add({"user", "go on", ""}).ok());
  auto prompt = conv->prompt_tokens();
  ASSERT_TRUE(prompt.ok());
  auto next = respond(*conv, turn(0));
  ASSERT_TRUE(next.ok()) << next.error();
  EXPECT_GT(next->stats.cached_tokens, 0);
  expect_cold_equivalent(*conv, *prompt, kCtx);

  // A flag raised before the turn stops it before the first token.
  stop = true;
  auto none = send(*conv, "again", t);
  ASSERT_TRUE(none.ok()) << none.error();
  EXPECT_EQ(none->stats.stop_reason, StopReason::kCancelled);
  EXPECT_EQ(none->stats.generated_tokens, 0);
  EXPECT_EQ(none->message.content, "");
  EXPECT_EQ(static_cast<int>(conv->tokens().size()), conv->session().n_past());
}

TEST_F(ConversationTest, ClearKeepsSystemPromptAndReusesItsCache) {
  constexpr int kCtx = 1024;
  auto conv = make(kCtx);
  ASSERT_TRUE(conv);
  conv->set_system("You answer in French.");
  ASSERT_TRUE(send(*conv, "hello", turn(6)).ok());
  ASSERT_TRUE(send(*conv, "and again", turn(6)).ok());
  conv->clear();
  ASSERT_EQ(conv->messages().size(), 1u);
  EXPECT_EQ(conv->messages()[0].role, "system");

  ASSERT_TRUE(conv->add({"user", "fresh start", ""}).ok());
  auto prompt = conv->prompt_tokens();
  ASSERT_TRUE(prompt.ok());
  auto t = respond(*conv, turn(0));
  ASSERT_TRUE(t.ok()) << t.error();
  EXPECT_GT(t->stats.cached_tokens, 0);  // the system header is still in the cache
  EXPECT_LT(t->stats.cached_tokens, t->stats.prompt_tokens);
  expect_cold_equivalent(*conv, *prompt, kCtx);
  // A fresh conversation renders exactly the same prompt.
  auto fresh = make(kCtx);
  fresh->set_system("You answer in French.");
  ASSERT_TRUE(fresh->add({"user", "fresh start", ""}).ok());
  EXPECT_EQ(*fresh->prompt_tokens(), *prompt);

  conv->reset_cache();
  EXPECT_EQ(conv->session().n_past(), 0);
  EXPECT_TRUE(conv->tokens().empty());
  conv->set_system("");
  EXPECT_TRUE(conv->messages().size() == 2 && conv->messages()[0].role == "user");
}

TEST_F(ConversationTest, BadMessagesAreRefused) {
  auto conv = make(256);
  ASSERT_TRUE(conv);
  EXPECT_FALSE(conv->respond().ok());  // nothing to answer
  EXPECT_FALSE(conv->add({"wizard", "x", ""}).ok());
  ASSERT_TRUE(conv->add({"user", "x", ""}).ok());
  auto r = conv->add({"system", "late", ""});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(conv->messages().size(), 1u);
  EXPECT_FALSE(conv->set_messages({{"user", "a", ""}, {"system", "b", ""}}).ok());
  EXPECT_EQ(conv->messages().size(), 1u);
}

TEST_F(ConversationTest, BorrowedSessionIsEmptiedAndUsed) {
  SessionOptions so;
  so.n_ctx = 512;
  auto s = Session::create(*shared_, so);
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE((*s)->eval(std::vector<int32_t>{1, 2, 3}).ok());
  auto conv = Conversation::create(**s, fixed_options());
  ASSERT_TRUE(conv.ok()) << conv.error();
  EXPECT_EQ((*s)->n_past(), 0);
  auto t = (*conv)->send("hi", turn(4));
  ASSERT_TRUE(t.ok()) << t.error();
  EXPECT_EQ((*s)->n_past(), static_cast<int>((*conv)->tokens().size()));
}

}  // namespace
}  // namespace smol::engine
