#include "text_utils.h"

#include <algorithm>
#include <utility>

namespace smol::net {

namespace {

// Length of the well-formed sequence starting at s[i]: >0 = complete, 0 = malformed,
// -1 = a valid but truncated start (more bytes needed).
int utf8_sequence(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  if (c < 0x80) return 1;
  int n;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;  // no overlongs
    if (c == 0xED) hi = 0x9F;  // no surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;  // <= U+10FFFF
  } else {
    return 0;
  }
  for (int k = 1; k < n; ++k) {
    if (i + k >= s.size()) return -1;
    unsigned char t = b(i + k);
    unsigned char l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
    if (t < l || t > h) return 0;
  }
  return n;
}

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

}  // namespace

bool is_valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    int n = utf8_sequence(s, i);
    if (n <= 0) return false;
    i += n;
  }
  return true;
}

std::string take_utf8(std::string& pending, bool flush) {
  std::string out;
  size_t i = 0;
  while (i < pending.size()) {
    int n = utf8_sequence(pending, i);
    if (n > 0) {
      out.append(pending, i, n);
      i += n;
    } else if (n < 0 && !flush) {
      break;  // keep the incomplete tail for the next token
    } else {
      out += kReplacement;
      i += 1;
    }
  }
  pending.erase(0, i);
  return out;
}

std::string truncate_utf8(const std::string& s, size_t max_bytes) {
  if (s.size() <= max_bytes) return s;
  size_t end = max_bytes;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  return s.substr(0, end);
}

std::string StopMatcher::feed(std::string_view text) {
  if (stopped_) return {};
  held_ += text;
  if (stops_.empty()) return std::exchange(held_, {});
  size_t cut = std::string::npos;
  for (const auto& stop : stops_) {
    if (stop.empty()) continue;
    size_t at = held_.find(stop);
    if (at != std::string::npos) cut = std::min(cut, at);
  }
  if (cut != std::string::npos) {
    stopped_ = true;
    std::string out = held_.substr(0, cut);
    held_.clear();
    return out;
  }
  // Hold back the longest suffix that is a proper prefix of some stop string.
  size_t keep = 0;
  for (const auto& stop : stops_) {
    for (size_t len = std::min(stop.size() - 1, held_.size()); len > keep; --len) {
      if (held_.compare(held_.size() - len, len, stop, 0, len) == 0) {
        keep = len;
        break;
      }
    }
  }
  // Never split a UTF-8 character between released and held text.
  size_t split = held_.size() - keep;
  while (split > 0 && split < held_.size() &&
         (static_cast<unsigned char>(held_[split]) & 0xC0) == 0x80) {
    --split;
  }
  std::string out = held_.substr(0, split);
  held_.erase(0, split);
  return out;
}

std::string StopMatcher::flush() {
  if (stopped_) return {};
  return std::exchange(held_, {});
}

}  // namespace smol::net
