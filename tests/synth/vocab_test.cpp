// tokenizer.json conversion: the real Llama-3 file from node_modules (skipped, saying why, when
// absent) and small hand-written files for each rule and each error.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "synth_vocab.h"

namespace smol::synth {
namespace {

namespace fs = std::filesystem;

class TempJson {
 public:
  explicit TempJson(const std::string& text) {
    path_ = (fs::temp_directory_path() / ("synth_vocab_" + std::to_string(::getpid()) + "_" +
                                          std::to_string(counter_++) + ".json"))
                .string();
    std::ofstream(path_) << text;
  }
  ~TempJson() { fs::remove(path_); }
  const std::string& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  std::string path_;
};

// A minimal BPE tokenizer.json whose id space reaches the SmolLM3 special slots.
std::string mini_json(const std::string& merges, const std::string& extra_added = "") {
  return R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": )" + merges +
         R"(}, "added_tokens": [)" + extra_added +
         R"({"id": 128018, "content": "<|reserved_special_token_13|>", "special": true}]})";
}

TEST(SynthVocab, RealLlama3TokenizerJson) {
  auto path = find_default_tokenizer_json();
  if (!path.ok()) GTEST_SKIP() << path.error();
  auto v = load_vocab(*path);
  ASSERT_TRUE(v.ok()) << v.error();
  ASSERT_EQ(v->tokens.size(), 128256u);
  EXPECT_EQ(v->merges.size(), 280147u);
  EXPECT_EQ(v->tokens[128000], "<|begin_of_text|>");
  EXPECT_EQ(v->tokens[128001], "<|end_of_text|>");
  EXPECT_EQ(v->tokens[128009], "<|eot_id|>");
  EXPECT_EQ(v->tokens[128002], "<think>");
  EXPECT_EQ(v->tokens[128003], "</think>");
  EXPECT_EQ(v->tokens[128008], "<|eom_id|>");
  EXPECT_EQ(v->tokens[128011], "<|im_start|>");
  EXPECT_EQ(v->tokens[128012], "<|im_end|>");
  EXPECT_EQ(v->tokens[128013], "<tool_response>");
  EXPECT_EQ(v->tokens[128014], "</tool_response>");
  EXPECT_EQ(v->tokens[128015], "<tool_call>");
  EXPECT_EQ(v->tokens[128016], "</tool_call>");
  EXPECT_EQ(v->tokens[128017], "<code>");
  EXPECT_EQ(v->tokens[128018], "</code>");
  // The Llama-3.0 file we start from: what SmolLM3 renamed, recorded for the report.
  ASSERT_EQ(v->replaced.size(), smollm3_special_tokens().size());
  EXPECT_EQ(v->replaced[0], "128002 <|reserved_special_token_0|>");
  for (size_t i = 0; i < 128000; ++i) {
    ASSERT_EQ(v->token_types[i], static_cast<int32_t>(TokenType::kNormal)) << i;
  }
  for (size_t i = 128000; i < 128256; ++i) {
    ASSERT_EQ(v->token_types[i], static_cast<int32_t>(TokenType::kControl)) << i;
  }
  EXPECT_EQ(v->tokens[220], "Ġ");
  EXPECT_EQ(v->merges[0], "Ġ Ġ");
}

TEST(SynthVocab, StringAndArrayMergesBothBecomeLeftSpaceRight) {
  TempJson s(mini_json(R"(["a b"])"));
  TempJson a(mini_json(R"([["a", "b"]])"));
  auto vs = load_vocab(s.path());
  auto va = load_vocab(a.path());
  ASSERT_TRUE(vs.ok()) << vs.error();
  ASSERT_TRUE(va.ok()) << va.error();
  EXPECT_EQ(vs->merges, std::vector<std::string>{"a b"});
  EXPECT_EQ(va->merges, std::vector<std::string>{"a b"});
}

TEST(SynthVocab, TypesHolesAndRenames) {
  TempJson j(mini_json(R"(["a b"])", R"({"id": 5, "content": "<|x|>", "special": false},
      {"id": 6, "content": "<y>", "special": true}, {"id": 7, "content": "hello", "special": false},)"));
  auto v = load_vocab(j.path());
  ASSERT_TRUE(v.ok()) << v.error();
  ASSERT_EQ(v->tokens.size(), 128019u);
  EXPECT_EQ(v->token_types[0], static_cast<int32_t>(TokenType::kNormal));
  EXPECT_EQ(v->tokens[3], "[PAD3]");  // an id nobody uses
  EXPECT_EQ(v->token_types[3], static_cast<int32_t>(TokenType::kUnused));
  EXPECT_EQ(v->token_types[5], static_cast<int32_t>(TokenType::kControl));      // looks <|...|>
  EXPECT_EQ(v->token_types[6], static_cast<int32_t>(TokenType::kControl));      // special
  EXPECT_EQ(v->token_types[7], static_cast<int32_t>(TokenType::kUserDefined));  // plain added
  EXPECT_EQ(v->tokens[128002], "<think>");
  EXPECT_EQ(v->token_types[128002], static_cast<int32_t>(TokenType::kControl));
  EXPECT_EQ(v->tokens[128018], "</code>");
}

void expect_error(const std::string& json, const std::string& what) {
  TempJson j(json);
  auto v = load_vocab(j.path());
  ASSERT_FALSE(v.ok()) << "accepted: " << json;
  EXPECT_NE(v.error().find(what), std::string::npos) << v.error();
  EXPECT_NE(v.error().find(j.path()), std::string::npos) << "error names the file: " << v.error();
}

TEST(SynthVocab, ErrorsNameTheFileAndTheField) {
  expect_error("{not json", "not valid JSON");
  expect_error(R"({"x": 1})", "'model'");
  expect_error(R"({"model": {"type": "Unigram"}})", "BPE");
  expect_error(R"({"model": {"type": 5}})", "BPE");
  expect_error(R"([1, 2])", "'model'");
  expect_error(R"({"model": {"type": "BPE", "merges": []}})", "model.vocab");
  expect_error(R"({"model": {"type": "BPE", "vocab": {}}})", "model.merges");
  expect_error(mini_json(R"(["ab"])"), "model.merges[0]");
  expect_error(mini_json(R"(["a b c"])"), "model.merges[0]");
  expect_error(mini_json(R"([["a"]])"), "model.merges[0]");
  expect_error(mini_json(R"([7])"), "model.merges[0]");
  expect_error(R"({"model": {"type": "BPE", "vocab": {"a": -1}, "merges": []}})", "model.vocab");
  expect_error(R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}})",
               "too small for SmolLM3");
  expect_error(mini_json("[]", R"({"id": 9, "content": "<think>", "special": true},)"),
               "'<think>' already at id 9");
  expect_error(mini_json("[]", R"({"id": "x", "content": "q"},)"), "added_tokens");
}

TEST(SynthVocab, NonBooleanSpecialIsNotSpecial) {
  TempJson j(mini_json("[]", R"({"id": 5, "content": "plain", "special": "yes"},)"));
  auto v = load_vocab(j.path());
  ASSERT_TRUE(v.ok()) << v.error();
  EXPECT_EQ(v->token_types[5], static_cast<int32_t>(TokenType::kUserDefined));
}

TEST(SynthVocab, MissingFile) {
  auto v = load_vocab("/nonexistent/tokenizer.json");
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.error().find("/nonexistent/tokenizer.json"), std::string::npos);
}

}  // namespace
}  // namespace smol::synth
