#include "lexer.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>

#include "value.h"

namespace smol::chat {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
bool is_ident_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool is_ident(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

std::string normalize_newlines(std::string_view source) {
  std::string out;
  out.reserve(source.size());
  for (size_t k = 0; k < source.size(); ++k) {
    if (source[k] == '\r') {
      out += '\n';
      if (k + 1 < source.size() && source[k + 1] == '\n') ++k;
    } else {
      out += source[k];
    }
  }
  if (!out.empty() && out.back() == '\n') out.pop_back();  // Jinja: keep_trailing_newline=False
  return out;
}

class Lexer {
 public:
  Lexer(std::string source, const ParseOptions& options)
      : src_(std::move(source)), options_(options) {
    for (size_t k = 0; k < src_.size(); ++k) {
      if (src_[k] == '\n') newlines_.push_back(k);
    }
  }

  Result<std::vector<Token>> run();

 private:
  int line_at(size_t pos) const {
    return 1 + static_cast<int>(std::lower_bound(newlines_.begin(), newlines_.end(), pos) -
                                newlines_.begin());
  }
  Error error(size_t pos, const std::string& what) const {
    return Error{"chat template line " + std::to_string(line_at(pos)) + ": " + what};
  }
  // Text before a tag, with Jinja's OptionalLStrip rule applied.
  void push_text(std::string text, size_t text_pos, char sign, bool lstrip_allowed);
  // Consumes an end marker's trailing whitespace control; returns the new position.
  size_t after_end(size_t pos, char sign_before_end, bool trim);
  Result<size_t> lex_tag(size_t pos, bool is_block);
  Result<size_t> lex_string(size_t pos);
  Result<size_t> lex_raw(size_t pos, size_t content_pos);

  std::string src_;
  std::vector<size_t> newlines_;  // positions of '\n', for line numbers
  const ParseOptions& options_;
  std::vector<Token> tokens_;
  bool line_starting_ = true;
};

void Lexer::push_text(std::string text, size_t text_pos, char sign, bool lstrip_allowed) {
  if (sign == '-') {
    while (!text.empty() && is_space(text.back())) text.pop_back();
  } else if (sign != '+' && lstrip_allowed && options_.lstrip_blocks) {
    size_t l_pos = text.rfind('\n');
    l_pos = l_pos == std::string::npos ? 0 : l_pos + 1;
    if ((l_pos > 0 || line_starting_) && l_pos < text.size() &&
        std::all_of(text.begin() + l_pos, text.end(), is_space)) {
      text.resize(l_pos);
    }
  }
  if (!text.empty()) tokens_.push_back({TokenKind::kText, line_at(text_pos), std::move(text)});
}

size_t Lexer::after_end(size_t pos, char sign_before_end, bool trim) {
  line_starting_ = false;
  if (sign_before_end == '-') {
    while (pos < src_.size() && is_space(src_[pos])) {
      line_starting_ = src_[pos] == '\n';
      ++pos;
    }
  } else if (sign_before_end != '+' && trim && options_.trim_blocks && pos < src_.size() &&
             src_[pos] == '\n') {
    line_starting_ = true;
    ++pos;
  }
  return pos;
}

Result<size_t> Lexer::lex_string(size_t pos) {
  char quote = src_[pos];
  size_t start = pos;
  std::string out;
  ++pos;
  while (true) {
    if (pos >= src_.size()) return error(start, "unterminated string literal");
    char c = src_[pos];
    if (c == quote) break;
    if (c != '\\') {
      out += c;
      ++pos;
      continue;
    }
    if (pos + 1 >= src_.size()) return error(start, "unterminated string literal");
    char e = src_[pos + 1];
    pos += 2;
    auto hex = [&](int digits) -> Result<uint32_t> {
      if (pos + digits > src_.size()) return error(start, "truncated \\x/\\u escape in string");
      uint32_t v = 0;
      for (int k = 0; k < digits; ++k) {
        char h = src_[pos + k];
        if (!std::isxdigit(static_cast<unsigned char>(h))) {
          return error(start, "bad \\x/\\u escape in string");
        }
        v = v * 16 +
            (std::isdigit(static_cast<unsigned char>(h)) ? h - '0' : (std::tolower(h) - 'a' + 10));
      }
      pos += digits;
      return v;
    };
    switch (e) {
      case '\n':
        break;  // line continuation
      case '\\':
      case '\'':
      case '"':
        out += e;
        break;
      case 'n':
        out += '\n';
        break;
      case 't':
        out += '\t';
        break;
      case 'r':
        out += '\r';
        break;
      case 'a':
        out += '\a';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'v':
        out += '\v';
        break;
      case 'x':
      case 'u':
      case 'U': {
        auto v = hex(e == 'x' ? 2 : e == 'u' ? 4 : 8);
        if (!v) return Error{v.error()};
        uint32_t cp = *v;
        // A \uD8xx\uDCxx pair becomes one code point.
        if (cp >= 0xD800 && cp < 0xDC00 && pos + 6 <= src_.size() && src_[pos] == '\\' &&
            src_[pos + 1] == 'u') {
          pos += 2;
          auto low = hex(4);
          if (!low) return Error{low.error()};
          if (*low >= 0xDC00 && *low < 0xE000) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (*low - 0xDC00);
          } else {
            append_utf8(out, cp);
            cp = *low;
          }
        }
        if (cp > 0x10FFFF) return error(start, "escape beyond U+10FFFF in string");
        append_utf8(out, cp);
        break;
      }
      case 'N':
        return error(start, "\\N{...} escapes are not supported");
      default:
        if (e >= '0' && e <= '7') {
          uint32_t v = e - '0';
          for (int k = 0; k < 2 && pos < src_.size() && src_[pos] >= '0' && src_[pos] <= '7'; ++k) {
            v = v * 8 + (src_[pos++] - '0');
          }
          append_utf8(out, v);
        } else {
          out += '\\';
          out += e;
        }
    }
  }
  tokens_.push_back({TokenKind::kString, line_at(start), std::move(out)});
  return pos + 1;
}

Result<size_t> Lexer::lex_tag(size_t pos, bool is_block) {
  size_t open_pos = pos;
  std::vector<char> balance;
  static const char* const kOps[] = {"//", "**", "==", "!=", ">=", "<=", "+", "-", "/",
                                     "*",  "%",  "~",  "[",  "]",  "(",  ")", "{", "}",
                                     "=",  ".",  ":",  "|",  ",",  ";",  "<", ">"};
  while (true) {
    while (pos < src_.size() && is_space(src_[pos])) ++pos;
    if (pos >= src_.size()) {
      return error(open_pos,
                   std::string("unclosed ") + (is_block ? "'{%' tag" : "'{{' expression"));
    }
    std::string_view rest(src_.data() + pos, src_.size() - pos);
    if (balance.empty()) {
      std::string_view end = is_block ? "%}" : "}}";
      char sign = 0;
      if ((rest[0] == '-' || (is_block && rest[0] == '+')) && rest.substr(1, 2) == end) {
        sign = rest[0];
      }
      if (sign || rest.substr(0, 2) == end) {
        tokens_.push_back({is_block ? TokenKind::kBlockEnd : TokenKind::kVarEnd, line_at(pos), ""});
        return after_end(pos + (sign ? 3 : 2), sign, is_block);
      }
    }
    char c = rest[0];
    int line = line_at(pos);
    if (c == '\'' || c == '"') {
      auto next = lex_string(pos);
      if (!next) return next;
      pos = *next;
      continue;
    }
    if (std::isdigit(static_cast<unsigned char>(c))) {
      size_t end = pos;
      auto digits = [&] {
        while (end < src_.size() && (std::isdigit(static_cast<unsigned char>(src_[end])) ||
                                     (src_[end] == '_' && end + 1 < src_.size() &&
                                      std::isdigit(static_cast<unsigned char>(src_[end + 1]))))) {
          ++end;
        }
      };
      digits();
      bool is_float = false;
      if (end + 1 < src_.size() && src_[end] == '.' &&
          std::isdigit(static_cast<unsigned char>(src_[end + 1]))) {
        is_float = true;
        ++end;
        digits();
      }
      if (end < src_.size() && (src_[end] == 'e' || src_[end] == 'E')) {
        size_t e = end + 1;
        if (e < src_.size() && (src_[e] == '+' || src_[e] == '-')) ++e;
        if (e < src_.size() && std::isdigit(static_cast<unsigned char>(src_[e]))) {
          is_float = true;
          end = e;
          digits();
        }
      }
      std::string text;
      for (size_t k = pos; k < end; ++k) {
        if (src_[k] != '_') text += src_[k];
      }
      Token t{is_float ? TokenKind::kFloat : TokenKind::kInt, line, text};
      if (is_float) {
        t.float_value = std::strtod(text.c_str(), nullptr);
      } else {
        errno = 0;
        t.int_value = std::strtoll(text.c_str(), nullptr, 10);
        if (errno == ERANGE) return error(pos, "integer literal out of range: " + text);
      }
      tokens_.push_back(std::move(t));
      pos = end;
      continue;
    }
    if (is_ident_start(c)) {
      size_t end = pos;
      while (end < src_.size() && is_ident(src_[end])) ++end;
      tokens_.push_back({TokenKind::kName, line, src_.substr(pos, end - pos)});
      pos = end;
      continue;
    }
    bool matched = false;
    for (const char* op : kOps) {
      std::string_view o(op);
      if (rest.substr(0, o.size()) != o) continue;
      if (o == "(" || o == "[" || o == "{") {
        balance.push_back(o == "(" ? ')' : o == "[" ? ']' : '}');
      } else if (o == ")" || o == "]" || o == "}") {
        if (balance.empty()) return error(pos, "unexpected '" + std::string(o) + "'");
        if (balance.back() != o[0]) {
          return error(pos, "unexpected '" + std::string(o) + "', expected '" +
                                std::string(1, balance.back()) + "'");
        }
        balance.pop_back();
      }
      tokens_.push_back({TokenKind::kOp, line, std::string(o)});
      pos += o.size();
      matched = true;
      break;
    }
    if (!matched) return error(pos, "unexpected character '" + std::string(1, c) + "' in tag");
  }
}

// {% raw %}...{% endraw %}: the body is text, with the endraw tag's whitespace control.
Result<size_t> Lexer::lex_raw(size_t open_pos, size_t content_pos) {
  size_t search = content_pos;
  while (true) {
    size_t q = src_.find("{%", search);
    if (q == std::string::npos) return error(open_pos, "missing {% endraw %}");
    size_t p = q + 2;
    char sign = 0;
    if (p < src_.size() && (src_[p] == '-' || src_[p] == '+')) sign = src_[p++];
    while (p < src_.size() && is_space(src_[p])) ++p;
    if (src_.compare(p, 6, "endraw") != 0) {
      search = q + 2;
      continue;
    }
    p += 6;
    while (p < src_.size() && is_space(src_[p])) ++p;
    char end_sign = 0;
    if (p < src_.size() && (src_[p] == '-' || src_[p] == '+')) end_sign = src_[p++];
    if (src_.compare(p, 2, "%}") != 0) {
      search = q + 2;
      continue;
    }
    push_text(src_.substr(content_pos, q - content_pos), content_pos, sign, true);
    return after_end(p + 2, end_sign, true);
  }
}

Result<std::vector<Token>> Lexer::run() {
  size_t pos = 0;
  while (pos < src_.size()) {
    size_t q = pos;
    while (true) {
      q = src_.find('{', q);
      if (q == std::string::npos || q + 1 >= src_.size()) {
        q = std::string::npos;
        break;
      }
      char k = src_[q + 1];
      if (k == '{' || k == '%' || k == '#') break;
      ++q;
    }
    if (q == std::string::npos) {
      tokens_.push_back({TokenKind::kText, line_at(pos), src_.substr(pos)});
      break;
    }
    char kind = src_[q + 1];
    size_t p = q + 2;
    char sign = 0;
    if (p < src_.size() && (src_[p] == '-' || src_[p] == '+')) sign = src_[p++];
    std::string text = src_.substr(pos, q - pos);
    if (kind == '%') {
      size_t r = p;
      while (r < src_.size() && is_space(src_[r])) ++r;
      if (src_.compare(r, 3, "raw") == 0 && (r + 3 >= src_.size() || !is_ident(src_[r + 3]))) {
        r += 3;
        while (r < src_.size() && is_space(src_[r])) ++r;
        bool minus = r < src_.size() && src_[r] == '-';
        if (src_.compare(r + (minus ? 1 : 0), 2, "%}") == 0) {
          push_text(std::move(text), pos, sign, true);
          r += minus ? 3 : 2;
          if (minus) {
            while (r < src_.size() && is_space(src_[r])) ++r;
          }
          auto next = lex_raw(q, r);
          if (!next) return Error{next.error()};
          pos = *next;
          continue;
        }
      }
    }
    push_text(std::move(text), pos, sign, kind != '{');
    if (kind == '#') {
      size_t search = p;
      while (true) {
        size_t e = src_.find("#}", search);
        if (e == std::string::npos) return error(q, "unclosed comment");
        char end_sign = e > p && (src_[e - 1] == '-' || src_[e - 1] == '+') ? src_[e - 1] : 0;
        pos = after_end(e + 2, end_sign, true);
        break;
      }
      continue;
    }
    tokens_.push_back(
        {kind == '%' ? TokenKind::kBlockBegin : TokenKind::kVarBegin, line_at(q), ""});
    auto next = lex_tag(p, kind == '%');
    if (!next) return Error{next.error()};
    pos = *next;
  }
  tokens_.push_back({TokenKind::kEof, line_at(src_.size()), ""});
  return std::move(tokens_);
}

}  // namespace

Result<std::vector<Token>> tokenize(std::string_view source, const ParseOptions& options) {
  Lexer lexer(normalize_newlines(source), options);
  return lexer.run();
}

}  // namespace smol::chat
