// Cutting text at special-token texts before BPE (private).
//
// Semantics follow llama.cpp's tokenizer_st_partition: special tokens are taken in order of
// decreasing text length (ties: increasing id); for each one, every non-overlapping occurrence
// (leftmost first) inside the still-unsplit text fragments becomes its own fragment.
// USER_DEFINED tokens always take part, CONTROL and UNKNOWN only with parse_special.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace smol::tokenizer {

struct Fragment {
  int32_t token;  // >= 0: a special token; -1: plain text [offset, offset + length)
  uint32_t offset;
  uint32_t length;
};

class SpecialMatcher {
 public:
  struct Entry {
    int32_t id;
    std::string text;
    bool always;  // USER_DEFINED: matched even without parse_special
  };

  // `entries` in any order; sorted here into partition order. Empty texts are ignored.
  void build(std::vector<Entry> entries);

  // Replaces `out` with the fragments of `text` (all plain text when nothing matches).
  void partition(std::string_view text, bool parse_special, std::vector<Fragment>& out) const;

  size_t size() const { return entries_.size(); }

 private:
  struct Node {
    std::vector<std::pair<uint8_t, int32_t>> children;  // byte -> node index
    int32_t entry = -1;                                 // index into entries_ ending here
  };
  int32_t child(int32_t node, uint8_t byte) const;

  std::vector<Entry> entries_;  // partition order
  std::vector<Node> trie_;      // node 0 is the root
  std::array<bool, 256> first_byte_{};
};

}  // namespace smol::tokenizer
