// Open-addressing hash table from a byte string to a token id, for the whole-piece fast path
// (private). One probe usually touches one 16-byte slot; the bytes are compared only when the
// 64-bit hashes agree. std::unordered_map spent half of encode() walking its node chains.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace smol::tokenizer {

inline uint64_t hash_bytes(std::string_view s) {
  constexpr uint64_t kMul = 0x9E3779B97F4A7C15ull;
  uint64_t h = 0x243F6A8885A308D3ull ^ (s.size() * kMul);
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    h = (h ^ w) * kMul;
    h ^= h >> 29;
  }
  uint64_t tail = 0;
  std::memcpy(&tail, s.data() + i, s.size() - i);
  h = (h ^ tail) * kMul;
  h ^= h >> 32;
  return h;
}

class PieceTable {
 public:
  // `keys` must outlive the table (the table stores ids and compares against keys[id]).
  void build(const std::vector<std::string>* keys, const std::vector<int32_t>& ids) {
    keys_ = keys;
    size_t cap = 16;
    while (cap < 2 * ids.size()) cap *= 2;
    slots_.assign(cap, Slot{0, -1});
    mask_ = cap - 1;
    for (int32_t id : ids) {
      const std::string& key = (*keys_)[id];
      const uint64_t h = hash_bytes(key);
      for (size_t i = h & mask_;; i = (i + 1) & mask_) {
        if (slots_[i].id < 0) {
          slots_[i] = Slot{h, id};
          break;
        }
        if (slots_[i].hash == h && (*keys_)[slots_[i].id] == key) break;  // keep the first
      }
    }
  }

  // -1 when absent.
  int32_t find(std::string_view key) const {
    if (slots_.empty()) return -1;
    const uint64_t h = hash_bytes(key);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.id < 0) return -1;
      if (s.hash == h && (*keys_)[s.id] == key) return s.id;
    }
  }

 private:
  struct Slot {
    uint64_t hash;
    int32_t id;
  };
  const std::vector<std::string>* keys_ = nullptr;
  std::vector<Slot> slots_;
  size_t mask_ = 0;
};

}  // namespace smol::tokenizer
