// The GPT-2 byte-level alphabet (private): every byte value maps to one printable code point so
// that byte strings can be stored as text in the vocabulary. Printable Latin-1 bytes
// ('!'..'~', U+00A1..U+00AC, U+00AE..U+00FF) map to themselves; the other 68 bytes map, in
// increasing byte order, to U+0100, U+0101, ... (so ' ' (0x20) -> U+0120 'Ġ', '\n' -> U+010A 'Ċ').
#pragma once

#include <array>
#include <cstdint>

namespace smol::tokenizer::byte_level {

struct Tables {
  std::array<uint32_t, 256> byte_to_cp;  // byte -> code point
  std::array<int16_t, 324> cp_to_byte;   // code point (< 324) -> byte, or -1
};

constexpr Tables make_tables() {
  Tables t{};
  for (auto& v : t.cp_to_byte) v = -1;
  auto keeps_itself = [](int b) {
    return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
  };
  int next = 0;
  for (int b = 0; b < 256; ++b) {
    const uint32_t cp = keeps_itself(b) ? static_cast<uint32_t>(b) : 256u + next++;
    t.byte_to_cp[b] = cp;
    t.cp_to_byte[cp] = static_cast<int16_t>(b);
  }
  return t;
}

inline constexpr Tables kTables = make_tables();
static_assert(kTables.byte_to_cp[' '] == 0x120 && kTables.byte_to_cp['\n'] == 0x10A);

// -1 when `cp` is not in the byte-level alphabet.
constexpr int cp_to_byte(uint32_t cp) {
  return cp < kTables.cp_to_byte.size() ? kTables.cp_to_byte[cp] : -1;
}

}  // namespace smol::tokenizer::byte_level
