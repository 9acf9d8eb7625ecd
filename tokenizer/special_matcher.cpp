#include "special_matcher.h"

#include <algorithm>

namespace smol::tokenizer {

void SpecialMatcher::build(std::vector<Entry> entries) {
  std::erase_if(entries, [](const Entry& e) { return e.text.empty(); });
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    if (a.text.size() != b.text.size()) return a.text.size() > b.text.size();
    return a.id < b.id;
  });
  entries_ = std::move(entries);
  trie_.assign(1, Node{});
  first_byte_.fill(false);
  for (size_t e = 0; e < entries_.size(); ++e) {
    const std::string& t = entries_[e].text;
    first_byte_[static_cast<uint8_t>(t[0])] = true;
    int32_t node = 0;
    for (char ch : t) {
      const auto b = static_cast<uint8_t>(ch);
      int32_t next = child(node, b);
      if (next < 0) {
        next = static_cast<int32_t>(trie_.size());
        trie_[node].children.emplace_back(b, next);
        trie_.emplace_back();
      }
      node = next;
    }
    if (trie_[node].entry < 0) trie_[node].entry = static_cast<int32_t>(e);
  }
}

int32_t SpecialMatcher::child(int32_t node, uint8_t byte) const {
  for (const auto& [b, next] : trie_[node].children) {
    if (b == byte) return next;
  }
  return -1;
}

void SpecialMatcher::partition(std::string_view text, bool parse_special,
                               std::vector<Fragment>& out) const {
  out.clear();
  if (text.empty()) return;
  const auto whole = Fragment{-1, 0, static_cast<uint32_t>(text.size())};

  // One pass finds which special texts occur at all; texts that never occur cannot occur in a
  // fragment either, so the (per-token) splitting below only runs for those, if any.
  std::vector<uint8_t> occurs;
  bool any = false;
  for (size_t i = 0; i < text.size(); ++i) {
    if (!first_byte_[static_cast<uint8_t>(text[i])]) continue;
    int32_t node = 0;
    for (size_t j = i; j < text.size(); ++j) {
      node = child(node, static_cast<uint8_t>(text[j]));
      if (node < 0) break;
      const int32_t e = trie_[node].entry;
      if (e >= 0 && (parse_special || entries_[e].always)) {
        if (occurs.empty()) occurs.assign(entries_.size(), 0);
        occurs[e] = 1;
        any = true;
      }
    }
  }
  out.push_back(whole);
  if (!any) return;

  std::vector<Fragment> next;
  for (size_t e = 0; e < entries_.size(); ++e) {
    if (!occurs[e]) continue;
    const std::string& t = entries_[e].text;
    next.clear();
    for (const Fragment& f : out) {
      if (f.token >= 0) {
        next.push_back(f);
        continue;
      }
      const std::string_view s = text.substr(f.offset, f.length);
      size_t from = 0;
      for (size_t at; (at = s.find(t, from)) != std::string_view::npos; from = at + t.size()) {
        if (at > from) {
          next.push_back(
              {-1, static_cast<uint32_t>(f.offset + from), static_cast<uint32_t>(at - from)});
        }
        next.push_back({entries_[e].id, static_cast<uint32_t>(f.offset + at),
                        static_cast<uint32_t>(t.size())});
      }
      if (from < s.size()) {
        next.push_back(
            {-1, static_cast<uint32_t>(f.offset + from), static_cast<uint32_t>(s.size() - from)});
      }
    }
    out.swap(next);
  }
}

}  // namespace smol::tokenizer
