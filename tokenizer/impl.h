// detail::TokenizerData — the immutable tables built once by Tokenizer::create (private).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "merge_table.h"
#include "piece_table.h"
#include "smol/tokenizer.h"
#include "special_matcher.h"

namespace smol::tokenizer {

// How a token renders when decoding.
enum class PieceVisibility : uint8_t {
  kAlways,       // NORMAL (byte-decoded) and USER_DEFINED (raw text)
  kWithSpecial,  // CONTROL and UNKNOWN: raw text only when render_special
  kNever,        // BYTE and UNUSED: nothing (as llama.cpp does for BPE vocabularies)
};

namespace detail {
struct TokenizerData {
  int32_t n_vocab = 0;
  int32_t bos_id = -1;
  int32_t eos_id = -1;
  bool add_bos = false;

  std::vector<std::string> tokens;  // [n_vocab] raw vocabulary text
  std::vector<TokenType> types;     // [n_vocab] after the EOG-implies-CONTROL fix-up
  std::unordered_map<std::string_view, int32_t> token_to_id;  // views into `tokens`

  // BPE symbols are token ids. Strings that are not vocabulary tokens (a byte whose
  // byte-level character is missing, or a merge result missing from the vocabulary) get
  // "virtual" ids n_vocab + k whose byte-level text is virtual_texts[k].
  std::vector<std::string> virtual_texts;
  int32_t byte_symbol[256] = {};  // byte -> symbol id of its byte-level character
  MergeTable merges;              // (left id, right id) -> (rank, merged symbol id)

  // Whole-piece fast path: ids of tokens whose own BPE is exactly themselves, keyed by the
  // raw bytes they stand for. BPE of such a piece can be skipped (same result, proven at
  // create time by running BPE on each of them).
  PieceTable whole_piece;  // keys: `pieces`

  SpecialMatcher specials;  // CONTROL / USER_DEFINED / UNKNOWN token texts

  std::vector<std::string> pieces;          // [n_vocab] bytes each token renders as
  std::vector<PieceVisibility> visibility;  // [n_vocab]

  std::vector<int32_t> eog_ids;  // sorted
  std::vector<uint8_t> is_eog;   // [n_vocab]
};
}  // namespace detail

}  // namespace smol::tokenizer
