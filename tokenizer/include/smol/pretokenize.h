// smol/pretokenize.h — the Llama-3 pre-tokenizer split, exposed for tests and tools.
//
// Splits text the way this regex does (llama.cpp's `smaug-bpe`/`llama3` pre-tokenizer):
//
//   (?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])
//   |[^\r\n\p{L}\p{N}]?\p{L}+ | \p{N}{1,3} | ?[^\s\p{L}\p{N}]+[\r\n]* | \s*[\r\n]+
//   |\s+(?!\S) | \s+
//
// as a hand-written scanner (no regex engine). \p{L} and \p{N} are Unicode general categories
// L* and N*; \s is the Unicode White_Space property (ICU). Every byte of the input ends up in
// exactly one piece, so concatenating the pieces gives the input back.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace smol::tokenizer {

// Character classes the split needs, as bit flags.
enum CharClass : uint8_t {
  kClassLetter = 1,  // \p{L}
  kClassNumber = 2,  // \p{N}
  kClassSpace = 4,   // \s (White_Space)
};
uint8_t char_class(uint32_t codepoint);

// Reusable scanner: keeps its buffers between calls, so one instance per thread avoids
// allocations. Not thread-safe (use one per thread).
class Llama3Splitter {
 public:
  // Precondition: `text` is valid UTF-8 (checked by the caller; see find_invalid_utf8).
  // Replaces `pieces` with views into `text`.
  void split(std::string_view text, std::vector<std::string_view>& pieces);

 private:
  std::vector<uint32_t> cps_;     // code points
  std::vector<uint8_t> classes_;  // CharClass flags per code point
  std::vector<uint32_t> offs_;    // byte offset of each code point, plus the end
};

}  // namespace smol::tokenizer
