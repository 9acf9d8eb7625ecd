// Test helper: a small byte-level BPE vocabulary built by hand (header-only).
//   ids 0..255   the byte-level character of each byte value (in byte order)
//   then         one token per merge result, in merge order
//   then         the given special tokens with their types
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "smol/tokenizer.h"

namespace smol::tokenizer::testing {

// GPT-2 byte -> code point, as UTF-8.
inline std::string byte_char(unsigned char b) {
  auto keeps = [](int x) {
    return (x >= 0x21 && x <= 0x7E) || (x >= 0xA1 && x <= 0xAC) || (x >= 0xAE && x <= 0xFF);
  };
  int n = 0;
  unsigned cp = b;
  if (!keeps(b)) {
    for (int x = 0; x < b; ++x) n += !keeps(x);
    cp = 256 + n;
  }
  std::string s;
  if (cp < 0x80) {
    s.push_back(static_cast<char>(cp));
  } else {
    s.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
  return s;
}

// Byte-level form of raw bytes ("a b" -> "aĠb").
inline std::string byte_level(const std::string& raw) {
  std::string s;
  for (unsigned char c : raw) s += byte_char(c);
  return s;
}

// `merges` are raw-byte pairs, e.g. {"h", "e"}, {" ", "w"}.
inline Vocab tiny_vocab(const std::vector<std::pair<std::string, std::string>>& merges,
                        const std::vector<std::pair<std::string, TokenType>>& specials = {}) {
  Vocab v;
  for (int b = 0; b < 256; ++b) {
    v.tokens.push_back(byte_char(static_cast<unsigned char>(b)));
    v.token_types.push_back(static_cast<int32_t>(TokenType::kNormal));
  }
  for (const auto& [l, r] : merges) {
    v.merges.push_back(byte_level(l) + " " + byte_level(r));
    const std::string joined = byte_level(l + r);
    bool exists = false;
    for (const auto& t : v.tokens) exists = exists || t == joined;
    if (!exists) {
      v.tokens.push_back(joined);
      v.token_types.push_back(static_cast<int32_t>(TokenType::kNormal));
    }
  }
  for (const auto& [text, type] : specials) {
    v.tokens.push_back(text);
    v.token_types.push_back(static_cast<int32_t>(type));
  }
  return v;
}

}  // namespace smol::tokenizer::testing
