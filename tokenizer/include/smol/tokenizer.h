// smol/tokenizer.h — byte-level BPE for the Llama-3 vocabulary used by SmolLM3.
//
// Goals: produce exactly the token ids llama.cpp produces for a GGUF file with
// tokenizer.ggml.model = "gpt2" and tokenizer.ggml.pre = "smaug-bpe" (the Llama-3 split regex,
// merges always applied, no BOS added), and turn ids back into the exact bytes.
//   * Text is first cut at special tokens (USER_DEFINED always, CONTROL only with
//     parse_special; longest token text first), then each plain fragment is split by the Llama-3
//     pre-tokenizer (a hand-written scanner; Unicode classes from ICU), each piece is mapped
//     through the GPT-2 byte->unicode table and merged by BPE rank.
//   * decode(encode(x)) == x for every valid UTF-8 x (no "clean up spaces" pass).
// Non-goals: other pre-tokenizers, SentencePiece/WordPiece vocabularies, normalisation, reading
// GGUF files (engine/tokenizer_gguf.h does that), training.
//
// Thread safety: a Tokenizer is immutable after create(); all const methods may be called
// concurrently. Copies share the same immutable state. StreamDecoder is per stream (not shared).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "smol/result.h"

namespace smol::tokenizer {

namespace detail {
struct TokenizerData;  // the immutable tables (tokenizer/impl.h)
}

// GGUF tokenizer.ggml.token_type values (gguf-py TokenType).
enum class TokenType : int32_t {
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6,
};

// The vocabulary as plain data, exactly as the GGUF arrays hold it.
struct Vocab {
  std::vector<std::string> tokens;   // [n_vocab] byte-level encoded text ("Ġthe" = " the")
  std::vector<int32_t> token_types;  // [n_vocab] TokenType values
  std::vector<std::string> merges;   // "left right"; rank = index
  int32_t bos_id = -1;               // -1: none
  int32_t eos_id = -1;               // -1: none
  bool add_bos = false;              // prepend bos_id in encode() (SmolLM3: false)
};

class Tokenizer {
 public:
  // Validates the vocabulary (non-empty, counts agree, token types in 1..6, token texts valid
  // UTF-8, merges of the form "left right" naming existing tokens, bos/eos in range) and builds
  // the lookup tables. A token text that occurs twice maps to its last id, as in llama.cpp.
  static Result<Tokenizer> create(Vocab vocab);

  Tokenizer(const Tokenizer&) = default;
  Tokenizer& operator=(const Tokenizer&) = default;
  Tokenizer(Tokenizer&&) noexcept = default;
  Tokenizer& operator=(Tokenizer&&) noexcept = default;
  ~Tokenizer();

  // Text -> ids. `text` must be valid UTF-8 (error names the byte offset otherwise).
  // parse_special: also recognise CONTROL token texts such as "<|im_start|>" inside the text
  // (use it for rendered chat templates, never for raw user text). BOS is prepended only when
  // the vocabulary says add_bos.
  Result<std::vector<int32_t>> encode(std::string_view text, bool parse_special = false) const;

  // Appends the bytes of one token. CONTROL/UNKNOWN tokens produce their text only when
  // render_special; USER_DEFINED tokens always produce their text; BYTE/UNUSED produce nothing.
  // Error: id out of range.
  Status append_piece(int32_t id, bool render_special, std::string& out) const;
  Result<std::string> token_to_piece(int32_t id, bool render_special = false) const;

  // Ids -> bytes (concatenated pieces). The bytes need not be valid UTF-8 for arbitrary ids.
  Result<std::string> decode(std::span<const int32_t> ids, bool render_special = false) const;

  // Id of the CONTROL/USER_DEFINED/UNKNOWN token whose text is exactly `text`
  // ("<|im_end|>", "<think>"), if any.
  std::optional<int32_t> special_token(std::string_view text) const;
  // Id of any token whose raw vocabulary text is `text` (byte-level encoded form).
  std::optional<int32_t> find_token(std::string_view text) const;

  // End of generation: eos_id, plus tokens whose text is <|im_end|>, <|eot_id|>,
  // <|end_of_text|>, <|eom_id|> or <|endoftext|>.
  bool is_eog(int32_t id) const;
  const std::vector<int32_t>& eog_ids() const;  // sorted

  int32_t n_vocab() const;
  int32_t bos_id() const;
  int32_t eos_id() const;
  bool add_bos() const;
  // Raw vocabulary text and type of `id`; id must be in [0, n_vocab) (checked, aborts).
  const std::string& token_text(int32_t id) const;
  TokenType token_type(int32_t id) const;

 private:
  explicit Tokenizer(std::shared_ptr<const detail::TokenizerData> impl);
  std::shared_ptr<const detail::TokenizerData> impl_;
};

// Turns a stream of ids into text that never ends inside a UTF-8 sequence: bytes of an
// incomplete character are held back until the token that completes it arrives. Invalid byte
// sequences (which a model can produce) are replaced by U+FFFD so callers always get valid
// UTF-8.
class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& tokenizer, bool render_special = false);

  // Returns the newly completed text (possibly empty). Error: id out of range (state unchanged).
  Result<std::string> push(int32_t id);
  // Ends the stream: held-back bytes of an unfinished character become U+FFFD.
  std::string flush();
  bool has_pending() const { return !pending_.empty(); }

 private:
  Tokenizer tokenizer_;
  bool render_special_;
  std::string pending_;  // bytes of one incomplete UTF-8 sequence (at most 3)
};

// Validates UTF-8 (shortest form, no surrogates, <= U+10FFFF). Returns the byte offset of the
// first invalid sequence, or nullopt when valid.
std::optional<size_t> find_invalid_utf8(std::string_view text);

}  // namespace smol::tokenizer
