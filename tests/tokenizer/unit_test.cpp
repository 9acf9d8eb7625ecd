// Unit tests on small hand-built byte-level vocabularies: validation errors, BPE merge order,
// special tokens, decoding, UTF-8 checking and the streaming decoder.
#include <gtest/gtest.h>

#include <random>

#include "smol/tokenizer.h"
#include "tiny_vocab.h"

namespace smol::tokenizer {
namespace {

using testing::byte_level;
using testing::tiny_vocab;
using Ids = std::vector<int32_t>;

Tokenizer make(Vocab v) {
  auto t = Tokenizer::create(std::move(v));
  EXPECT_TRUE(t.ok()) << t.error();
  return std::move(t).value();
}

std::string create_error(Vocab v) {
  auto t = Tokenizer::create(std::move(v));
  EXPECT_FALSE(t.ok());
  return t.ok() ? "" : t.error();
}

Ids enc(const Tokenizer& t, std::string_view s, bool special = false) {
  auto r = t.encode(s, special);
  EXPECT_TRUE(r.ok()) << r.error();
  return r.ok() ? *r : Ids{};
}

// Id of the token whose raw bytes are `raw`.
int32_t id_of(const Tokenizer& t, const std::string& raw) {
  auto id = t.find_token(byte_level(raw));
  EXPECT_TRUE(id.has_value()) << raw;
  return id.value_or(-1);
}

bool contains(const std::string& s, const std::string& what) {
  return s.find(what) != std::string::npos;
}

TEST(Create, RejectsBadVocabularies) {
  EXPECT_TRUE(contains(create_error(Vocab{}), "empty"));

  Vocab v = tiny_vocab({});
  v.token_types.pop_back();
  EXPECT_TRUE(contains(create_error(v), "256 tokens but 255 token types"));

  v = tiny_vocab({});
  v.merges.push_back("a zz");
  EXPECT_TRUE(contains(create_error(v), "merge #0 'a zz': 'zz' is not a token"));

  v = tiny_vocab({});
  v.merges.push_back("ab");
  EXPECT_TRUE(contains(create_error(v), "not of the form 'left right'"));

  v = tiny_vocab({});
  v.token_types[65] = 9;
  EXPECT_TRUE(contains(create_error(v), "token 65 'A' has unknown token type 9"));

  v = tiny_vocab({});
  v.eos_id = 256;
  EXPECT_TRUE(contains(create_error(v), "outside [0, 256)"));

  v = tiny_vocab({});
  v.add_bos = true;
  EXPECT_TRUE(contains(create_error(v), "add_bos"));

  v = tiny_vocab({});
  v.tokens[0] = "\xC3";
  EXPECT_TRUE(contains(create_error(v), "token 0 is not valid UTF-8"));
}

TEST(Bpe, MergesInRankOrder) {
  const auto ab_first = make(tiny_vocab({{"a", "b"}, {"b", "c"}}));
  EXPECT_EQ(enc(ab_first, "abc"), (Ids{id_of(ab_first, "ab"), 'c'}));
  const auto bc_first = make(tiny_vocab({{"b", "c"}, {"a", "b"}}));
  EXPECT_EQ(enc(bc_first, "abc"), (Ids{'a', id_of(bc_first, "bc")}));
}

TEST(Bpe, EqualPairsMergeLeftmostFirst) {
  const auto t = make(tiny_vocab({{"a", "a"}}));
  const int32_t aa = id_of(t, "aa");
  EXPECT_EQ(enc(t, "aaa"), (Ids{aa, 'a'}));
  EXPECT_EQ(enc(t, "aaaa"), (Ids{aa, aa}));
  const auto t2 = make(tiny_vocab({{"a", "a"}, {"aa", "aa"}}));
  EXPECT_EQ(enc(t2, "aaaaa"), (Ids{id_of(t2, "aaaa"), 'a'}));
}

TEST(Bpe, MultiStepMergesAndSpacePrefix) {
  const auto t =
      make(tiny_vocab({{"h", "e"}, {"l", "l"}, {"he", "ll"}, {"hell", "o"}, {" ", "w"}}));
  EXPECT_EQ(enc(t, "hello"), (Ids{id_of(t, "hello")}));
  EXPECT_EQ(enc(t, "hello world"), (Ids{id_of(t, "hello"), id_of(t, " w"), 'o', 'r', 'l', 'd'}));
  EXPECT_EQ(t.decode(enc(t, "hello world")).value(), "hello world");
}

TEST(Bpe, MergeResultMissingFromVocabularyFallsBackToCharacters) {
  Vocab v = tiny_vocab({});
  v.merges.push_back("a b");  // "ab" is not a token
  const auto t = make(v);
  EXPECT_EQ(enc(t, "ab"), (Ids{'a', 'b'}));
}

TEST(Encode, AddsBosOnlyWhenTheVocabularySaysSo) {
  Vocab v = tiny_vocab({}, {{"<s>", TokenType::kControl}});
  v.bos_id = 256;
  EXPECT_EQ(enc(make(v), "a"), (Ids{'a'}));
  v.add_bos = true;
  EXPECT_EQ(enc(make(v), "a"), (Ids{256, 'a'}));
  EXPECT_EQ(enc(make(v), ""), (Ids{256}));
}

TEST(Special, ControlOnlyWithParseSpecialUserDefinedAlways) {
  const auto t = make(tiny_vocab({}, {{"<|c|>", TokenType::kControl},
                                      {"<u>", TokenType::kUserDefined},
                                      {"<x>", TokenType::kUnused}}));
  EXPECT_EQ(enc(t, "a<|c|>b", true), (Ids{'a', 256, 'b'}));
  EXPECT_EQ(enc(t, "a<u>b", false), (Ids{'a', 257, 'b'}));
  EXPECT_EQ(enc(t, "<u><u>", false), (Ids{257, 257}));
  const Ids plain = enc(t, "a<|c|>b", false);
  EXPECT_EQ(plain.size(), 7u);  // every character its own token: no merges in this vocabulary
  EXPECT_EQ(enc(t, "<x>", true).size(), 3u) << "unused tokens are never matched";
}

TEST(Special, LongestTextFirst) {
  const auto t = make(tiny_vocab({}, {{"<a>", TokenType::kControl},
                                      {"<a>x", TokenType::kControl},
                                      {"bcd", TokenType::kControl},
                                      {"ab", TokenType::kControl}}));
  EXPECT_EQ(enc(t, "<a>x<a>y", true), (Ids{257, 256, 'y'}));
  // "bcd" (longer) is cut out before "ab" is looked for, so "ab" no longer occurs.
  EXPECT_EQ(enc(t, "abcd", true), (Ids{'a', 258}));
}

TEST(Special, EndOfGenerationTokensAreControl) {
  Vocab v = tiny_vocab({}, {{"<|im_end|>", TokenType::kControl},
                            {"<|eot_id|>", TokenType::kUserDefined},
                            {"<|im_start|>", TokenType::kControl}});
  v.eos_id = 'e';
  const auto t = make(v);
  EXPECT_EQ(t.eog_ids(), (Ids{'e', 256, 257}));
  EXPECT_TRUE(t.is_eog(256));
  EXPECT_FALSE(t.is_eog(258));
  EXPECT_EQ(t.token_type(257), TokenType::kControl) << "llama.cpp forces EOG texts to CONTROL";
  EXPECT_EQ(enc(t, "<|eot_id|>", false).size(), 10u);
  EXPECT_EQ(t.special_token("<|im_start|>"), 258);
  EXPECT_EQ(t.special_token("e"), std::nullopt);
}

TEST(Decode, VisibilityByTokenType) {
  const auto t = make(tiny_vocab({}, {{"<c>", TokenType::kControl},
                                      {"<u>", TokenType::kUserDefined},
                                      {"<n>", TokenType::kUnused},
                                      {"<b>", TokenType::kByte},
                                      {"<k>", TokenType::kUnknown}}));
  const Ids ids = {'a', 256, 257, 258, 259, 260, 'z'};
  EXPECT_EQ(t.decode(ids, false).value(), "a<u>z");
  EXPECT_EQ(t.decode(ids, true).value(), "a<c><u><k>z");
  EXPECT_EQ(t.token_to_piece(' ').value(), " ");
  EXPECT_EQ(t.token_to_piece('\n').value(), "\n");
  EXPECT_EQ(t.token_to_piece(0xFF).value(), "\xFF");
  EXPECT_FALSE(t.token_to_piece(-1).ok());
  EXPECT_FALSE(t.token_to_piece(261).ok());
}

TEST(Utf8, FindsTheFirstInvalidByte) {
  EXPECT_EQ(find_invalid_utf8(""), std::nullopt);
  EXPECT_EQ(find_invalid_utf8("a\u00e9\u20ac\U0001F600"), std::nullopt);
  EXPECT_EQ(find_invalid_utf8("ab\x80"), 2u);            // lone continuation
  EXPECT_EQ(find_invalid_utf8("\xC0\x80"), 0u);          // overlong NUL
  EXPECT_EQ(find_invalid_utf8("x\xE0\x80\x80"), 1u);     // overlong 3-byte
  EXPECT_EQ(find_invalid_utf8("\xED\xA0\x80"), 0u);      // surrogate
  EXPECT_EQ(find_invalid_utf8("\xF4\x90\x80\x80"), 0u);  // > U+10FFFF
  EXPECT_EQ(find_invalid_utf8("\xF5\x80\x80\x80"), 0u);
  EXPECT_EQ(find_invalid_utf8("ok\xE2\x82"), 2u);  // truncated at the end
  EXPECT_EQ(find_invalid_utf8("\xE2\x82("), 0u);   // truncated before ASCII
  EXPECT_EQ(find_invalid_utf8(std::string_view("a\0b", 3)), std::nullopt);
}

TEST(Utf8, EncodeRejectsInvalidInput) {
  const auto t = make(tiny_vocab({}));
  auto r = t.encode("hello \xE2\x82 world");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), "tokenizer: input is not valid UTF-8 at byte offset 6");
}

TEST(Stream, EmitsOnlyCompleteCharacters) {
  const auto t = make(tiny_vocab({}));  // one token per byte: every multi-byte char is split
  StreamDecoder s(t);
  const std::string text = "a\u00e9\u20ac\U0001F600z";
  std::string out;
  std::vector<std::string> chunks;
  for (unsigned char b : text) {
    auto chunk = s.push(b);
    ASSERT_TRUE(chunk.ok());
    chunks.push_back(*chunk);
    out += *chunk;
  }
  EXPECT_EQ(out, text);
  EXPECT_EQ(chunks, (std::vector<std::string>{"a", "", "\u00e9", "", "", "\u20ac", "", "", "",
                                              "\U0001F600", "z"}));
  EXPECT_EQ(s.flush(), "");
}

TEST(Stream, InvalidBytesBecomeReplacementCharacters) {
  const auto t = make(tiny_vocab({}));
  StreamDecoder s(t);
  EXPECT_EQ(s.push(0xFF).value(), "\uFFFD");
  EXPECT_EQ(s.push(0xE2).value(), "");
  EXPECT_EQ(s.push('a').value(), "\uFFFDa");  // the unfinished character can never complete
  EXPECT_EQ(s.push(0xF0).value(), "");
  EXPECT_TRUE(s.has_pending());
  EXPECT_FALSE(s.push(99999).ok());
  EXPECT_TRUE(s.has_pending()) << "a bad id leaves the state alone";
  EXPECT_EQ(s.flush(), "\uFFFD");
  EXPECT_FALSE(s.has_pending());
}

TEST(Stream, SpecialTokensFollowTheRenderFlag) {
  const auto t = make(tiny_vocab({}, {{"<think>", TokenType::kControl}}));
  StreamDecoder hidden(t, false), shown(t, true);
  EXPECT_EQ(hidden.push(256).value(), "");
  EXPECT_EQ(shown.push(256).value(), "<think>");
}

TEST(RoundTrip, RandomUnicodeText) {
  const auto t = make(tiny_vocab({{" ", "t"}, {"h", "e"}, {" t", "he"}, {"\n", "\n"}}));
  std::mt19937 rng(7);
  const uint32_t pool[] = {' ',     '\n',   '\t',   'a',    'Z',     '7',    '\'',
                           '!',     0xE9,   0x4E00, 0x0627, 0x0915,  0x094D, 0x0E01,
                           0x1F600, 0x200D, 0x3000, 0xA0,   0x10FFFD};
  for (int iter = 0; iter < 500; ++iter) {
    std::string s;
    const int n = static_cast<int>(rng() % 40);
    for (int i = 0; i < n; ++i) {
      uint32_t c = pool[rng() % std::size(pool)];
      if (c < 0x80) {
        s.push_back(static_cast<char>(c));
      } else if (c < 0x800) {
        s += {static_cast<char>(0xC0 | (c >> 6)), static_cast<char>(0x80 | (c & 0x3F))};
      } else if (c < 0x10000) {
        s += {static_cast<char>(0xE0 | (c >> 12)), static_cast<char>(0x80 | ((c >> 6) & 0x3F)),
              static_cast<char>(0x80 | (c & 0x3F))};
      } else {
        s += {static_cast<char>(0xF0 | (c >> 18)), static_cast<char>(0x80 | ((c >> 12) & 0x3F)),
              static_cast<char>(0x80 | ((c >> 6) & 0x3F)), static_cast<char>(0x80 | (c & 0x3F))};
      }
    }
    const Ids ids = enc(t, s);
    ASSERT_EQ(t.decode(ids).value(), s);
  }
}

}  // namespace
}  // namespace smol::tokenizer
