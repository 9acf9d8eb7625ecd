// Tokens -> syntax tree, with Jinja's expression grammar and precedence. Unsupported tags
// (include, import, extends, block, ...) and syntax errors are reported with their line.
#pragma once

#include <string_view>

#include "ast.h"
#include "smol/chat_template.h"
#include "smol/result.h"

namespace smol::chat {

Result<Body> parse_template(std::string_view source, const ParseOptions& options);

}  // namespace smol::chat
