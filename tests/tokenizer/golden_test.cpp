// The GGUF glue (engine/tokenizer_gguf.h): hand-built files for each error, and the golden
// corpus against the vocabulary read from the synthetic SmolLM3 model (fixture synth_tiny).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "llama3_vocab.h"
#include "smol/gguf.h"
#include "smol/tokenizer_gguf.h"
#include "tiny_vocab.h"

namespace smol::engine {
namespace {

using tokenizer::TokenType;

// A metadata-only GGUF holding `v` as tokenizer.ggml.* (plus model/pre names).
gguf::Writer writer_for(const tokenizer::Vocab& v, std::string_view model = "gpt2",
                        std::string_view pre = "smaug-bpe") {
  gguf::Writer w;
  w.set_string("general.architecture", "smollm3");
  w.set_string("tokenizer.ggml.model", model);
  w.set_string("tokenizer.ggml.pre", pre);
  w.set_string_array("tokenizer.ggml.tokens", std::span<const std::string>(v.tokens));
  w.set_array("tokenizer.ggml.token_type", std::span<const int32_t>(v.token_types));
  w.set_string_array("tokenizer.ggml.merges", std::span<const std::string>(v.merges));
  return w;
}

Result<tokenizer::Tokenizer> load(const gguf::Writer& w) {
  auto bytes = w.to_bytes();
  if (!bytes.ok()) return Error{bytes.error()};
  auto file = gguf::File::from_bytes(std::move(*bytes));
  if (!file.ok()) return Error{file.error()};
  return tokenizer_from_gguf(*file);
}

std::string load_error(const gguf::Writer& w) {
  auto t = load(w);
  EXPECT_FALSE(t.ok());
  return t.ok() ? "" : t.error();
}

bool contains(const std::string& s, const std::string& what) {
  return s.find(what) != std::string::npos;
}

TEST(TokenizerGguf, ReadsTheArraysAndIds) {
  auto v = tokenizer::testing::tiny_vocab({{"h", "i"}}, {{"<|im_end|>", TokenType::kControl}});
  auto w = writer_for(v);
  w.set_u32("tokenizer.ggml.bos_token_id", 'B');
  w.set_u32("tokenizer.ggml.eos_token_id", 257);
  auto t = load(w);
  ASSERT_TRUE(t.ok()) << t.error();
  EXPECT_EQ(t->n_vocab(), 258);
  EXPECT_EQ(t->bos_id(), 'B');
  EXPECT_EQ(t->eos_id(), 257);
  EXPECT_FALSE(t->add_bos());
  EXPECT_EQ(t->encode("hi").value(), (std::vector<int32_t>{256}));
  w.set_bool("tokenizer.ggml.add_bos_token", true);
  EXPECT_EQ(load(w)->encode("hi").value(), (std::vector<int32_t>{'B', 256}));
}

TEST(TokenizerGguf, TokenTypesDefaultToNormal) {
  auto v = tokenizer::testing::tiny_vocab({});
  gguf::Writer w;
  w.set_string("tokenizer.ggml.model", "gpt2");
  w.set_string("tokenizer.ggml.pre", "smaug-bpe");
  w.set_string_array("tokenizer.ggml.tokens", std::span<const std::string>(v.tokens));
  w.set_string_array("tokenizer.ggml.merges", std::span<const std::string>(v.merges));
  auto t = load(w);
  ASSERT_TRUE(t.ok()) << t.error();
  EXPECT_EQ(t->token_type(7), TokenType::kNormal);
}

TEST(TokenizerGguf, ClearErrors) {
  const auto v = tokenizer::testing::tiny_vocab({{"a", "b"}});
  EXPECT_TRUE(contains(load_error(writer_for(v, "llama")), "tokenizer.ggml.model is 'llama'"));
  EXPECT_TRUE(contains(load_error(writer_for(v, "gpt2", "llama-bpe")),
                       "tokenizer.ggml.pre is 'llama-bpe'"));
  gguf::Writer no_model;
  EXPECT_TRUE(contains(load_error(no_model), "tokenizer.ggml.model"));

  auto short_types = v;
  short_types.token_types.pop_back();
  EXPECT_TRUE(contains(load_error(writer_for(short_types)), "token types"));

  auto bad_merge = v;
  bad_merge.merges.push_back("a nope");
  EXPECT_TRUE(contains(load_error(writer_for(bad_merge)), "'nope' is not a token"));

  auto w = writer_for(v);
  w.set_u32("tokenizer.ggml.eos_token_id", 100000);
  EXPECT_TRUE(contains(load_error(w), "tokenizer.ggml.eos_token_id = 100000 is outside"));

  auto w2 = writer_for(v);
  w2.set_string("tokenizer.ggml.merges", "a b");
  EXPECT_TRUE(contains(load_error(w2), "tokenizer.ggml.merges"));
}

TEST(TokenizerGguf, GoldenCorpusOnTheSyntheticModel) {
  const char* dir = std::getenv("SMOL_MODEL_DIR");
  const std::string path = std::string(dir ? dir : "build/models") + "/synth-tiny.gguf";
  if (!std::filesystem::exists(path)) {
    GTEST_SKIP() << path << " is absent (written by the synth_tiny CTest fixture)";
  }
  auto file = gguf::File::open(path);
  ASSERT_TRUE(file.ok()) << file.error();
  auto vocab = vocab_from_gguf(*file);
  ASSERT_TRUE(vocab.ok()) << vocab.error();
  EXPECT_EQ(vocab->tokens.size(), 128256u);
  EXPECT_EQ(vocab->merges.size(), 280147u);
  EXPECT_EQ(vocab->bos_id, 128000);
  EXPECT_EQ(vocab->eos_id, 128012);
  EXPECT_FALSE(vocab->add_bos);

  // The test helper's vocabulary (used by vocab_test) must be the same arrays.
  auto json_vocab =
      tokenizer::testing::load_llama3_vocab(tokenizer::testing::llama3_tokenizer_json_path());
  if (json_vocab.ok()) {
    EXPECT_TRUE(json_vocab->tokens == vocab->tokens);
    EXPECT_TRUE(json_vocab->token_types == vocab->token_types);
    EXPECT_TRUE(json_vocab->merges == vocab->merges);
  }

  auto tok = tokenizer::Tokenizer::create(std::move(*vocab));
  ASSERT_TRUE(tok.ok()) << tok.error();
  EXPECT_EQ(tok->special_token("<|im_start|>"), 128011);
  EXPECT_EQ(tok->special_token("<think>"), 128002);
  auto golden = tokenizer::testing::load_golden();
  ASSERT_TRUE(golden.ok()) << golden.error();
  EXPECT_EQ(tokenizer::testing::check_golden(*tok, *golden), golden->size());
}

}  // namespace
}  // namespace smol::engine
