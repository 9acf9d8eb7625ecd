// text_utils.h (private) — small text helpers shared by the service and the HTTP adapter.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace smol::net {

// True when `s` is well-formed UTF-8 (no overlongs, surrogates or code points > U+10FFFF).
bool is_valid_utf8(std::string_view s);

// Moves the longest decodable prefix of `pending` out and returns it; an incomplete sequence at
// the end stays in `pending` (a token may end inside a character) unless `flush`. Malformed
// bytes become U+FFFD so the result is always valid UTF-8 (JSON needs that).
std::string take_utf8(std::string& pending, bool flush);

// Cuts `s` to at most `max_bytes` without splitting a character.
std::string truncate_utf8(const std::string& s, size_t max_bytes);

// Stop strings on a stream of text. feed() returns the text that can safely be shown (text that
// could still become a stop string is held back); once a stop string appears, `stopped()` turns
// true and everything from the stop string on is dropped.
class StopMatcher {
 public:
  explicit StopMatcher(std::vector<std::string> stops) : stops_(std::move(stops)) {}
  std::string feed(std::string_view text);
  std::string flush();  // releases the held-back text (end of generation)
  bool stopped() const { return stopped_; }

 private:
  std::vector<std::string> stops_;
  std::string held_;
  bool stopped_ = false;
};

}  // namespace smol::net
