// Open-addressing hash table from a pair of symbol ids to the merge's rank and result (private).
// The BPE inner loop looks up every adjacent pair, so this avoids std::unordered_map's node
// chasing and string hashing.
#pragma once

#include <cstdint>
#include <vector>

namespace smol::tokenizer {

class MergeTable {
 public:
  struct Merge {
    int32_t rank;    // merge priority: lower merges first (index in tokenizer.ggml.merges)
    int32_t result;  // symbol id of left+right
  };

  // Sized for `n` entries at load factor <= 0.5.
  void reserve(size_t n) {
    size_t cap = 16;
    while (cap < 2 * n) cap *= 2;
    slots_.assign(cap, Slot{kEmpty, {0, 0}});
    mask_ = cap - 1;
  }

  // Keeps the first insertion of a pair (the lower rank), like llama.cpp's map emplace.
  bool insert(int32_t left, int32_t right, Merge merge) {
    const uint64_t key = make_key(left, right);
    for (size_t i = hash(key);; i = (i + 1) & mask_) {
      if (slots_[i].key == kEmpty) {
        slots_[i] = Slot{key, merge};
        return true;
      }
      if (slots_[i].key == key) return false;
    }
  }

  // nullptr when (left, right) is not a merge.
  const Merge* find(int32_t left, int32_t right) const {
    const uint64_t key = make_key(left, right);
    for (size_t i = hash(key);; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.key == key) return &s.merge;
      if (s.key == kEmpty) return nullptr;
    }
  }

 private:
  static constexpr uint64_t kEmpty = ~uint64_t{0};
  struct Slot {
    uint64_t key;
    Merge merge;
  };
  static uint64_t make_key(int32_t l, int32_t r) {
    return (uint64_t{static_cast<uint32_t>(l)} << 32) | static_cast<uint32_t>(r);
  }
  size_t hash(uint64_t key) const {
    return static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> 32) & mask_;
  }

  std::vector<Slot> slots_;
  size_t mask_ = 0;
};

}  // namespace smol::tokenizer
