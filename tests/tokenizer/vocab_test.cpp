// Tests on the real SmolLM3 vocabulary, built from the Llama-3 tokenizer.json plus SmolLM3's
// renamed slots (the same arrays gguf-synth writes; golden_test reads them from the GGUF):
// the committed llama.cpp golden ids, round trips, special tokens, streaming, concurrency.
#include <gtest/gtest.h>

#include <thread>

#include "llama3_vocab.h"
#include "smol/tokenizer.h"

namespace smol::tokenizer {
namespace {

#define SKIP_WITHOUT_VOCAB(t)                                   \
  std::string why_;                                             \
  const Tokenizer* t = testing::shared_llama3_tokenizer(&why_); \
  if (t == nullptr) GTEST_SKIP() << "no Llama-3 vocabulary: " << why_;

std::vector<int32_t> enc(const Tokenizer& t, std::string_view s, bool special = false) {
  auto r = t.encode(s, special);
  EXPECT_TRUE(r.ok()) << r.error();
  return r.ok() ? *r : std::vector<int32_t>{};
}

TEST(Vocab, GoldenIdsFromLlamaCpp) {
  SKIP_WITHOUT_VOCAB(t);
  auto golden = testing::load_golden();
  ASSERT_TRUE(golden.ok()) << golden.error();
  ASSERT_GE(golden->size(), 300u);
  EXPECT_EQ(testing::check_golden(*t, *golden), golden->size());
}

TEST(Vocab, WholeWordInVocabStillMerges) {
  SKIP_WITHOUT_VOCAB(t);
  // " Việt" is vocabulary entry 101798, but merges cannot build it; llama.cpp's smaug-bpe mode
  // (ignore_merges off) gives the merged pieces, Hugging Face (ignore_merges on) the entry.
  EXPECT_EQ(enc(*t, " Việt"), (std::vector<int32_t>{11655, 26298, 83}));
  EXPECT_EQ(t->token_to_piece(101798).value(), " Việt");
  EXPECT_EQ(t->find_token("\xC4\xA0Vi\xC3\xA1\xC2\xBB\xC4\xA9t"), 101798);  // "ĠViá»ĩt"
}

TEST(Vocab, SpecialTokensByText) {
  SKIP_WITHOUT_VOCAB(t);
  const std::pair<const char*, int32_t> expected[] = {{"<|begin_of_text|>", 128000},
                                                      {"<|end_of_text|>", 128001},
                                                      {"<think>", 128002},
                                                      {"</think>", 128003},
                                                      {"<|eom_id|>", 128008},
                                                      {"<|eot_id|>", 128009},
                                                      {"<|im_start|>", 128011},
                                                      {"<|im_end|>", 128012},
                                                      {"<tool_response>", 128013},
                                                      {"</tool_response>", 128014},
                                                      {"<tool_call>", 128015},
                                                      {"</tool_call>", 128016},
                                                      {"<code>", 128017},
                                                      {"</code>", 128018}};
  for (const auto& [text, id] : expected) EXPECT_EQ(t->special_token(text), id) << text;
  EXPECT_EQ(t->special_token("hello"), std::nullopt);  // a normal token is not special
  EXPECT_EQ(t->special_token("<|nope|>"), std::nullopt);
  EXPECT_EQ(t->eog_ids(), (std::vector<int32_t>{128001, 128008, 128009, 128012}));
  EXPECT_TRUE(t->is_eog(128012));
  EXPECT_FALSE(t->is_eog(128011));
  EXPECT_FALSE(t->is_eog(-1));
  EXPECT_FALSE(t->add_bos());
}

TEST(Vocab, ParseSpecialOnlyWhenAsked) {
  SKIP_WITHOUT_VOCAB(t);
  const std::string prompt = "<|im_start|>user\nHi<|im_end|>";
  const auto with = enc(*t, prompt, true);
  ASSERT_FALSE(with.empty());
  EXPECT_EQ(with.front(), 128011);
  EXPECT_EQ(with.back(), 128012);
  for (int32_t id : enc(*t, prompt, false)) EXPECT_LT(id, 128000) << "raw text made a special";
}

TEST(Vocab, ControlTokensRenderOnlyWhenAsked) {
  SKIP_WITHOUT_VOCAB(t);
  EXPECT_EQ(t->token_to_piece(128002, false).value(), "");
  EXPECT_EQ(t->token_to_piece(128002, true).value(), "<think>");
  EXPECT_EQ(t->token_to_piece(9906).value(), "Hello");
  EXPECT_EQ(t->token_to_piece(220).value(), " ");
  EXPECT_FALSE(t->token_to_piece(128256).ok());
  const std::vector<int32_t> ids = {128011, 9906, 128012};
  EXPECT_EQ(t->decode(ids, false).value(), "Hello");
  EXPECT_EQ(t->decode(ids, true).value(), "<|im_start|>Hello<|im_end|>");
  auto bad = t->decode(std::vector<int32_t>{9906, -5});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("position 1"), std::string::npos) << bad.error();
}

TEST(Vocab, StreamingHoldsBackSplitCharacters) {
  SKIP_WITHOUT_VOCAB(t);
  // "👍🏽" is byte-level BPE'd into tokens that each hold part of a 4-byte character.
  const std::string text = "ok 👍🏽 日本";
  const auto ids = enc(*t, text);
  StreamDecoder stream(*t);
  std::string out;
  int held = 0;
  for (int32_t id : ids) {
    auto chunk = stream.push(id);
    ASSERT_TRUE(chunk.ok());
    EXPECT_FALSE(find_invalid_utf8(*chunk).has_value());
    if (stream.has_pending()) ++held;
    out += *chunk;
  }
  EXPECT_GT(held, 0) << "the test text should split characters across tokens";
  EXPECT_EQ(out + stream.flush(), text);
}

TEST(Vocab, ConcurrentEncodeMatchesSerial) {
  SKIP_WITHOUT_VOCAB(t);
  auto golden = testing::load_golden();
  ASSERT_TRUE(golden.ok()) << golden.error();
  std::vector<std::vector<int32_t>> serial;
  for (const auto& g : *golden) serial.push_back(enc(*t, g.text, g.parse_special));

  constexpr int kThreads = 4;
  std::vector<int> mismatches(kThreads, 0);
  std::vector<std::thread> threads;
  for (int k = 0; k < kThreads; ++k) {
    threads.emplace_back([&, k] {
      for (int round = 0; round < 3; ++round) {
        // Each thread walks the corpus from a different start so that work interleaves.
        for (size_t i = 0; i < golden->size(); ++i) {
          const size_t j = (i + static_cast<size_t>(k) * 97) % golden->size();
          auto r = t->encode((*golden)[j].text, (*golden)[j].parse_special);
          if (!r.ok() || *r != serial[j]) ++mismatches[k];
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int k = 0; k < kThreads; ++k) EXPECT_EQ(mismatches[k], 0) << "thread " << k;
}

TEST(Vocab, InvalidUtf8IsAnErrorWithOffset) {
  SKIP_WITHOUT_VOCAB(t);
  auto r = t->encode(
      "abc\xFF"
      "def");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("byte offset 3"), std::string::npos) << r.error();
}

}  // namespace
}  // namespace smol::tokenizer
