#include "bpe.h"

#include <algorithm>

namespace smol::tokenizer {

namespace {
// Heap order: the top is the lowest rank, then the leftmost position.
bool after(const auto& a, const auto& b) {
  return a.rank != b.rank ? a.rank > b.rank : a.left > b.left;
}
}  // namespace

void BpeWorkspace::push_pair(const detail::TokenizerData& t, int32_t left, int32_t right) {
  if (left < 0 || right < 0) return;
  const int32_t l = symbols_[left].id, r = symbols_[right].id;
  const MergeTable::Merge* m = t.merges.find(l, r);
  if (m == nullptr) return;
  heap_.push_back(Pair{m->rank, left, right, l, r, m->result});
  std::push_heap(heap_.begin(), heap_.end(),
                 [](const Pair& a, const Pair& b) { return after(a, b); });
}

void BpeWorkspace::encode(const detail::TokenizerData& t, std::string_view piece,
                          std::vector<int32_t>& out) {
  const auto n = static_cast<int32_t>(piece.size());
  if (n == 0) return;
  if (n == 1) {
    append_symbol(t, t.byte_symbol[static_cast<uint8_t>(piece[0])], out);
    return;
  }
  symbols_.resize(n);
  for (int32_t i = 0; i < n; ++i) {
    symbols_[i] =
        Symbol{t.byte_symbol[static_cast<uint8_t>(piece[i])], i - 1, i + 1 < n ? i + 1 : -1, true};
  }
  heap_.clear();
  for (int32_t i = 0; i + 1 < n; ++i) push_pair(t, i, i + 1);

  const auto cmp = [](const Pair& a, const Pair& b) { return after(a, b); };
  while (!heap_.empty()) {
    std::pop_heap(heap_.begin(), heap_.end(), cmp);
    const Pair p = heap_.back();
    heap_.pop_back();
    Symbol& left = symbols_[p.left];
    Symbol& right = symbols_[p.right];
    if (!left.alive || !right.alive || left.id != p.left_id || right.id != p.right_id) {
      continue;  // stale: one side changed since this pair was queued
    }
    left.id = p.result;
    right.alive = false;
    left.next = right.next;
    if (right.next >= 0) symbols_[right.next].prev = p.left;
    push_pair(t, left.prev, p.left);
    push_pair(t, p.left, left.next);
  }
  for (int32_t i = 0; i >= 0; i = symbols_[i].next) append_symbol(t, symbols_[i].id, out);
}

void append_symbol(const detail::TokenizerData& t, int32_t symbol, std::vector<int32_t>& out) {
  if (symbol < t.n_vocab) {
    out.push_back(symbol);
    return;
  }
  const std::string& text = t.virtual_texts[symbol - t.n_vocab];
  for (char ch : text) {
    const auto it = t.token_to_id.find(std::string_view(&ch, 1));
    if (it != t.token_to_id.end()) out.push_back(it->second);
  }
}

}  // namespace smol::tokenizer
