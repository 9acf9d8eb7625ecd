// Byte-level BPE of one pre-tokenized piece (private).
//
// The piece's bytes start as one symbol each (the byte-level character's token id) in a linked
// list; a priority queue holds every adjacent pair that is a merge, ordered by (rank, position).
// The best pair is merged, its neighbours' pairs are queued, and stale queue entries (a side
// already merged into something else) are skipped when popped. This is the order llama.cpp
// applies merges in, so the result is identical, including ties between equal pairs (leftmost
// first).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "impl.h"

namespace smol::tokenizer {

class BpeWorkspace {
 public:
  // Appends the token ids of `piece` (raw bytes) to `out`.
  void encode(const detail::TokenizerData& t, std::string_view piece, std::vector<int32_t>& out);

 private:
  struct Symbol {
    int32_t id;  // symbol id (token id, or a virtual id >= n_vocab)
    int32_t prev;
    int32_t next;  // -1 at the ends
    bool alive;
  };
  struct Pair {
    int32_t rank;
    int32_t left;  // symbol index
    int32_t right;
    int32_t left_id;  // ids at push time, to detect stale entries
    int32_t right_id;
    int32_t result;
  };
  void push_pair(const detail::TokenizerData& t, int32_t left, int32_t right);

  std::vector<Symbol> symbols_;
  std::vector<Pair> heap_;
};

// Appends the output ids for a symbol left after merging; virtual symbols (text that is not a
// token) fall back like llama.cpp: each byte of the byte-level text that is itself a token.
void append_symbol(const detail::TokenizerData& t, int32_t symbol, std::vector<int32_t>& out);

}  // namespace smol::tokenizer
