// The Llama-3 split as a scanner over code points. Each branch below is one alternative of the
// regex, tried in the regex's order at the current position; the first that matches wins, as
// in a backtracking regex engine (the alternatives never need to backtrack into each other).
#include "smol/pretokenize.h"

#include <unicode/uchar.h>

#include <array>

#include "utf8.h"

namespace smol::tokenizer {

namespace {

constexpr std::array<uint8_t, 128> make_ascii_classes() {
  std::array<uint8_t, 128> t{};
  for (int c = 'a'; c <= 'z'; ++c) t[c] = kClassLetter;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = kClassLetter;
  for (int c = '0'; c <= '9'; ++c) t[c] = kClassNumber;
  for (int c : {'\t', '\n', '\v', '\f', '\r', ' '}) t[c] = kClassSpace;
  return t;
}
constexpr auto kAsciiClasses = make_ascii_classes();

bool is_cr_or_lf(uint32_t c) { return c == '\r' || c == '\n'; }

uint32_t ascii_lower(uint32_t c) { return (c >= 'A' && c <= 'Z') ? c + 32 : c; }

}  // namespace

uint8_t char_class(uint32_t c) {
  if (c < 128) return kAsciiClasses[c];
  const auto cp = static_cast<UChar32>(c);
  const uint32_t gc = U_GET_GC_MASK(cp);
  uint8_t k = 0;
  if (gc & U_GC_L_MASK) k |= kClassLetter;
  if (gc & U_GC_N_MASK) k |= kClassNumber;
  if (u_isUWhiteSpace(cp)) k |= kClassSpace;
  return k;
}

void Llama3Splitter::split(std::string_view text, std::vector<std::string_view>& pieces) {
  pieces.clear();
  cps_.clear();
  classes_.clear();
  offs_.clear();
  for (size_t i = 0; i < text.size();) {
    offs_.push_back(static_cast<uint32_t>(i));
    const uint32_t c = utf8::decode_valid(text, i);
    cps_.push_back(c);
    classes_.push_back(char_class(c));
  }
  offs_.push_back(static_cast<uint32_t>(text.size()));

  const size_t n = cps_.size();
  const uint32_t* cp = cps_.data();
  const uint8_t* cl = classes_.data();
  size_t start = 0;
  auto emit = [&](size_t end) {
    if (end > start) pieces.emplace_back(text.data() + offs_[start], offs_[end] - offs_[start]);
    start = end;
  };

  size_t pos = 0;
  while (pos < n) {
    const uint32_t c = cp[pos];
    const uint8_t k = cl[pos];

    // '[sS] | '[tT] | '[rR][eE] | '[vV][eE] | '[mM] | '[lL][lL] | '[dD]
    if (c == '\'' && pos + 1 < n) {
      const uint32_t c1 = ascii_lower(cp[pos + 1]);
      if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') {
        pos += 2;
        emit(pos);
        continue;
      }
      if (pos + 2 < n) {
        const uint32_t c2 = ascii_lower(cp[pos + 2]);
        if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) {
          pos += 3;
          emit(pos);
          continue;
        }
      }
    }

    // [^\r\n\p{L}\p{N}]?\p{L}+ : an optional non-letter/number/newline, then letters.
    if (!is_cr_or_lf(c) && !(k & kClassNumber)) {
      if ((k & kClassLetter) || (pos + 1 < n && (cl[pos + 1] & kClassLetter))) {
        ++pos;
        while (pos < n && (cl[pos] & kClassLetter)) ++pos;
        emit(pos);
        continue;
      }
    }

    // \p{N}{1,3}
    if (k & kClassNumber) {
      size_t run_start = pos;
      while (pos < n && (cl[pos] & kClassNumber)) {
        ++pos;
        if (pos - run_start == 3) {
          emit(pos);
          run_start = pos;
        }
      }
      emit(pos);
      continue;
    }

    // " ?[^\s\p{L}\p{N}]+[\r\n]*" : optional space, symbols/punctuation, trailing newlines.
    {
      const size_t first = (c == ' ') ? pos + 1 : pos;
      if (first < n && !(cl[first] & (kClassSpace | kClassLetter | kClassNumber))) {
        pos = first + 1;
        while (pos < n && !(cl[pos] & (kClassSpace | kClassLetter | kClassNumber))) ++pos;
        while (pos < n && is_cr_or_lf(cp[pos])) ++pos;
        emit(pos);
        continue;
      }
    }

    // Whitespace run [pos, pos + n_space).
    size_t n_space = 0;
    size_t end_of_last_newline = 0;  // 0: the run holds no \r or \n
    while (pos + n_space < n && (cl[pos + n_space] & kClassSpace)) {
      if (is_cr_or_lf(cp[pos + n_space])) end_of_last_newline = pos + n_space + 1;
      ++n_space;
    }
    if (end_of_last_newline > 0) {  // \s*[\r\n]+ : up to the last newline of the run
      pos = end_of_last_newline;
    } else if (n_space > 1 && pos + n_space < n) {  // \s+(?!\S) : leave the last space
      pos += n_space - 1;                           // for the word that follows
    } else if (n_space > 0) {                       // \s+
      pos += n_space;
    } else {  // unreachable for valid input: every code point matches some alternative
      ++pos;
    }
    emit(pos);
  }
}

}  // namespace smol::tokenizer
