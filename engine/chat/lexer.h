// Template text -> tokens, following Jinja's lexer: newlines normalised to \n, one trailing
// newline dropped, whitespace control ({%- -%} {{- -}} {#- -#}, `+` to opt out), trim_blocks
// and lstrip_blocks, comments, {% raw %}.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "smol/chat_template.h"
#include "smol/result.h"

namespace smol::chat {

enum class TokenKind {
  kText,
  kVarBegin,
  kVarEnd,
  kBlockBegin,
  kBlockEnd,
  kName,
  kString,
  kInt,
  kFloat,
  kOp,
  kEof,
};

struct Token {
  TokenKind kind;
  int line;
  std::string text;  // text / name / decoded string / operator
  int64_t int_value = 0;
  double float_value = 0;
};

Result<std::vector<Token>> tokenize(std::string_view source, const ParseOptions& options);

}  // namespace smol::chat
