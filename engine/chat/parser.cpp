#include "parser.h"

#include <initializer_list>
#include <string>
#include <vector>

#include "lexer.h"

namespace smol::chat {
namespace {

// Tags we know about but do not implement: a clear message instead of "unknown tag".
constexpr std::string_view kUnsupportedTags[] = {"include", "import",  "from",  "extends",
                                                 "block",   "do",      "trans", "autoescape",
                                                 "print",   "endblock"};

class Parser {
 public:
  Parser(std::vector<Token> tokens, const ParseOptions& options)
      : t_(std::move(tokens)), options_(options) {}

  Result<Body> parse_all() {
    std::string end;
    auto body = parse_body({}, &end);
    if (!body) return body;
    if (!at(TokenKind::kEof)) return err("unexpected tag");
    return body;
  }

 private:
  // --- token helpers -------------------------------------------------------------------------
  const Token& cur() const { return t_[p_]; }
  const Token& peek(size_t k = 1) const { return t_[std::min(p_ + k, t_.size() - 1)]; }
  bool at(TokenKind kind) const { return cur().kind == kind; }
  bool at_op(std::string_view op) const { return cur().kind == TokenKind::kOp && cur().text == op; }
  bool at_name(std::string_view name) const {
    return cur().kind == TokenKind::kName && cur().text == name;
  }
  void advance() {
    if (p_ + 1 < t_.size()) ++p_;
  }
  Error err(const std::string& what) const { return err_at(cur().line, what); }
  static Error err_at(int line, const std::string& what) {
    return Error{"chat template line " + std::to_string(line) + ": " + what};
  }
  std::string describe(const Token& t) const {
    switch (t.kind) {
      case TokenKind::kEof:
        return "end of template";
      case TokenKind::kBlockEnd:
        return "'%}'";
      case TokenKind::kVarEnd:
        return "'}}'";
      case TokenKind::kString:
        return "string";
      case TokenKind::kText:
        return "text";
      default:
        return "'" + t.text + "'";
    }
  }
  Status expect_op(std::string_view op) {
    if (!at_op(op)) return err("expected '" + std::string(op) + "', got " + describe(cur()));
    advance();
    return {};
  }
  Status expect_block_end() {
    if (!at(TokenKind::kBlockEnd)) return err("expected '%}', got " + describe(cur()));
    advance();
    return {};
  }
  Result<std::string> expect_name() {
    if (!at(TokenKind::kName)) return err("expected a name, got " + describe(cur()));
    std::string name = cur().text;
    advance();
    return name;
  }

  struct DepthGuard {
    explicit DepthGuard(int& d) : depth(d) { ++depth; }
    ~DepthGuard() { --depth; }
    int& depth;
  };
  Status check_depth() const {
    if (depth_ > options_.max_nesting) {
      return err("nesting deeper than " + std::to_string(options_.max_nesting) + " levels");
    }
    return {};
  }

  ExprPtr make(ExprKind kind, int line) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->line = line;
    return e;
  }

  // --- statements ----------------------------------------------------------------------------
  Result<Body> parse_body(std::initializer_list<std::string_view> ends, std::string* found_end);
  Result<NodePtr> parse_statement();
  Result<NodePtr> parse_if(int line);
  Result<NodePtr> parse_for(int line);
  Result<NodePtr> parse_set(int line);
  Result<NodePtr> parse_macro(int line);
  Result<NodePtr> parse_call_block(int line);
  Result<NodePtr> parse_filter_block(int line);
  Result<NodePtr> parse_with(int line);
  Result<NodePtr> parse_scope(int line, std::string_view end_tag);
  Status parse_params(std::vector<Param>& params);
  Status close_block(const std::string& found, std::string_view want, std::string_view opener,
                     int line);

  // --- expressions ---------------------------------------------------------------------------
  Result<ExprPtr> parse_tuple(bool with_condexpr);
  Result<ExprPtr> parse_expression(bool with_condexpr = true);
  Result<ExprPtr> parse_or();
  Result<ExprPtr> parse_and();
  Result<ExprPtr> parse_not();
  Result<ExprPtr> parse_compare();
  Result<ExprPtr> parse_math1();
  Result<ExprPtr> parse_concat();
  Result<ExprPtr> parse_math2();
  Result<ExprPtr> parse_pow();
  Result<ExprPtr> parse_unary(bool with_filter);
  Result<ExprPtr> parse_primary();
  Result<ExprPtr> parse_postfix(ExprPtr node);
  Result<ExprPtr> parse_filter_expr(ExprPtr node);
  Result<ExprPtr> parse_filter(ExprPtr node);
  Status parse_call_args(Expr& call);
  Result<ExprPtr> parse_subscript(ExprPtr node);
  ExprPtr binary(std::string op, ExprPtr a, ExprPtr b, int line) {
    auto e = make(ExprKind::kBinary, line);
    e->name = std::move(op);
    e->args.push_back(std::move(a));
    e->args.push_back(std::move(b));
    return e;
  }

  std::vector<Token> t_;
  size_t p_ = 0;
  const ParseOptions& options_;
  int depth_ = 0;
  int loop_depth_ = 0;
};

// ---------------------------------------------------------------------------------------------

Result<Body> Parser::parse_body(std::initializer_list<std::string_view> ends,
                                std::string* found_end) {
  DepthGuard guard(depth_);
  SMOL_TRY(check_depth());
  Body body;
  found_end->clear();
  while (true) {
    switch (cur().kind) {
      case TokenKind::kEof:
        return body;
      case TokenKind::kText: {
        auto n = std::make_unique<Node>();
        n->kind = NodeKind::kText;
        n->line = cur().line;
        n->text = cur().text;
        body.push_back(std::move(n));
        advance();
        break;
      }
      case TokenKind::kVarBegin: {
        int line = cur().line;
        advance();
        auto e = parse_tuple(true);
        if (!e) return Error{e.error()};
        if (!at(TokenKind::kVarEnd)) return err("expected '}}', got " + describe(cur()));
        advance();
        auto n = std::make_unique<Node>();
        n->kind = NodeKind::kOutput;
        n->line = line;
        n->expr = std::move(*e);
        body.push_back(std::move(n));
        break;
      }
      case TokenKind::kBlockBegin: {
        advance();
        if (!at(TokenKind::kName)) return err("expected a tag name, got " + describe(cur()));
        for (std::string_view end : ends) {
          if (cur().text == end) {
            *found_end = cur().text;
            advance();
            return body;
          }
        }
        auto n = parse_statement();
        if (!n) return Error{n.error()};
        body.push_back(std::move(*n));
        break;
      }
      default:
        return err("unexpected " + describe(cur()));
    }
  }
}

Status Parser::close_block(const std::string& found, std::string_view want, std::string_view opener,
                           int line) {
  if (found != want) {
    return err_at(line, "'" + std::string(opener) + "' opened here is never closed (missing {% " +
                            std::string(want) + " %})");
  }
  return expect_block_end();
}

Result<NodePtr> Parser::parse_statement() {
  int line = cur().line;
  std::string tag = cur().text;
  advance();
  if (tag == "if") return parse_if(line);
  if (tag == "for") return parse_for(line);
  if (tag == "set") return parse_set(line);
  if (tag == "macro") return parse_macro(line);
  if (tag == "call") return parse_call_block(line);
  if (tag == "filter") return parse_filter_block(line);
  if (tag == "with") return parse_with(line);
  if (tag == "generation") return parse_scope(line, "endgeneration");
  if (tag == "break" || tag == "continue") {
    if (loop_depth_ == 0) return err_at(line, "'" + tag + "' outside of a for loop");
    SMOL_TRY(expect_block_end());
    auto n = std::make_unique<Node>();
    n->kind = tag == "break" ? NodeKind::kBreak : NodeKind::kContinue;
    n->line = line;
    return n;
  }
  for (std::string_view u : kUnsupportedTags) {
    if (tag == u) return err_at(line, "unsupported tag '" + tag + "'");
  }
  if (tag.rfind("end", 0) == 0 || tag == "elif" || tag == "else") {
    return err_at(line, "unexpected '" + tag + "' (no matching opening tag)");
  }
  return err_at(line, "unknown tag '" + tag + "'");
}

Result<NodePtr> Parser::parse_if(int line) {
  auto n = std::make_unique<Node>();
  n->kind = NodeKind::kIf;
  n->line = line;
  std::string found = "if";
  while (true) {
    ExprPtr cond;
    if (found != "else") {
      auto c = parse_tuple(true);
      if (!c) return Error{c.error()};
      cond = std::move(*c);
    }
    SMOL_TRY(expect_block_end());
    bool is_else = found == "else";
    auto body =
        is_else ? parse_body({"endif"}, &found) : parse_body({"elif", "else", "endif"}, &found);
    if (!body) return Error{body.error()};
    n->branches.emplace_back(std::move(cond), std::move(*body));
    if (found == "endif") break;
    if (found.empty())
      return err_at(line, "'if' opened here is never closed (missing {% endif %})");
  }
  SMOL_TRY(expect_block_end());
  return n;
}

Result<NodePtr> Parser::parse_for(int line) {
  auto n = std::make_unique<Node>();
  n->kind = NodeKind::kFor;
  n->line = line;
  bool parens = at_op("(");
  if (parens) advance();
  while (true) {
    auto name = expect_name();
    if (!name) return Error{name.error()};
    n->targets.push_back(*name);
    if (!at_op(",")) break;
    advance();
    if (at_name("in") || at_op(")")) break;
  }
  if (parens) SMOL_TRY(expect_op(")"));
  if (!at_name("in")) return err("expected 'in' in for loop, got " + describe(cur()));
  advance();
  auto iter = parse_tuple(false);
  if (!iter) return Error{iter.error()};
  n->expr = std::move(*iter);
  if (at_name("if")) {
    advance();
    auto cond = parse_expression();
    if (!cond) return Error{cond.error()};
    n->filter = std::move(*cond);
  }
  if (at_name("recursive")) return err("unsupported: recursive for loops");
  SMOL_TRY(expect_block_end());
  std::string found;
  ++loop_depth_;
  auto body = parse_body({"else", "endfor"}, &found);
  --loop_depth_;
  if (!body) return Error{body.error()};
  n->body = std::move(*body);
  if (found == "else") {
    SMOL_TRY(expect_block_end());
    auto else_body = parse_body({"endfor"}, &found);
    if (!else_body) return Error{else_body.error()};
    n->else_body = std::move(*else_body);
  }
  SMOL_TRY(close_block(found, "endfor", "for", line));
  return n;
}

Result<NodePtr> Parser::parse_set(int line) {
  auto n = std::make_unique<Node>();
  n->line = line;
  auto name = expect_name();
  if (!name) return Error{name.error()};
  n->targets.push_back(*name);
  if (at_op(".")) {
    advance();
    auto attr = expect_name();
    if (!attr) return Error{attr.error()};
    n->attr_target = *attr;
  } else {
    while (at_op(",")) {
      advance();
      auto more = expect_name();
      if (!more) return Error{more.error()};
      n->targets.push_back(*more);
    }
  }
  if (at_op("=")) {
    advance();
    n->kind = NodeKind::kSet;
    auto value = parse_tuple(true);
    if (!value) return Error{value.error()};
    n->expr = std::move(*value);
    SMOL_TRY(expect_block_end());
    return n;
  }
  if (n->targets.size() != 1 || !n->attr_target.empty()) {
    return err("a block set assigns exactly one name");
  }
  n->kind = NodeKind::kSetBlock;
  if (at_op("|")) {
    auto chain = parse_filter(make(ExprKind::kName, line));
    if (!chain) return Error{chain.error()};
    n->filter = std::move(*chain);
  }
  SMOL_TRY(expect_block_end());
  std::string found;
  auto body = parse_body({"endset"}, &found);
  if (!body) return Error{body.error()};
  n->body = std::move(*body);
  SMOL_TRY(close_block(found, "endset", "set", line));
  return n;
}

Status Parser::parse_params(std::vector<Param>& params) {
  SMOL_TRY(expect_op("("));
  while (!at_op(")")) {
    auto name = expect_name();
    if (!name) return Error{name.error()};
    Param param{*name, nullptr};
    if (at_op("=")) {
      advance();
      auto def = parse_expression();
      if (!def) return Error{def.error()};
      param.default_value = std::move(*def);
    }
    params.push_back(std::move(param));
    if (!at_op(",")) break;
    advance();
  }
  return expect_op(")");
}

Result<NodePtr> Parser::parse_macro(int line) {
  auto n = std::make_unique<Node>();
  n->kind = NodeKind::kMacro;
  n->line = line;
  auto name = expect_name();
  if (!name) return Error{name.error()};
  n->targets.push_back(*name);
  SMOL_TRY(parse_params(n->params));
  SMOL_TRY(expect_block_end());
  std::string found;
  int saved_loops = loop_depth_;
  loop_depth_ = 0;  // break/continue cannot cross a macro boundary
  auto body = parse_body({"endmacro"}, &found);
  loop_depth_ = saved_loops;
  if (!body) return Error{body.error()};
  n->body = std::move(*body);
  if (at(TokenKind::kName) && found == "endmacro") advance();  // {% endmacro name %}
  SMOL_TRY(close_block(found, "endmacro", "macro", line));
  return n;
}

Result<NodePtr> Parser::parse_call_block(int line) {
  auto n = std::make_unique<Node>();
  n->kind = NodeKind::kCallBlock;
  n->line = line;
  if (at_op("(")) SMOL_TRY(parse_params(n->params));
  auto call = parse_expression();
  if (!call) return Error{call.error()};
  if ((*call)->kind != ExprKind::kCall) return err_at(line, "{% call %} needs a macro call");
  n->expr = std::move(*call);
  SMOL_TRY(expect_block_end());
  std::string found;
  auto body = parse_body({"endcall"}, &found);
  if (!body) return Error{body.error()};
  n->body = std::move(*body);
  SMOL_TRY(close_block(found, "endcall", "call", line));
  return n;
}

Result<NodePtr> Parser::parse_filter_block(int line) {
  auto n = std::make_unique<Node>();
  n->kind = NodeKind::kFilterBlock;
  n->line = line;
  // The chain applies to a placeholder name that the interpreter binds to the body's text.
  // `{% filter f(args) | g %}`: the first filter has no leading '|'.
  auto name = expect_name();
  if (!name) return Error{name.error()};
  auto first = make(ExprKind::kFilter, line);
  first->name = *name;
  first->args.push_back(make(ExprKind::kName, line));
  if (at_op("(")) SMOL_TRY(parse_call_args(*first));
  auto chain = parse_filter(std::move(first));
  if (!chain) return Error{chain.error()};
  n->filter = std::move(*chain);
  SMOL_TRY(expect_block_end());
  std::string found;
  auto body = parse_body({"endfilter"}, &found);
  if (!body) return Error{body.error()};
  n->body = std::move(*body);
  SMOL_TRY(close_block(found, "endfilter", "filter", line));
  return n;
}

Result<NodePtr> Parser::parse_with(int line) {
  auto n = std::make_unique<Node>();
  n->kind = NodeKind::kWith;
  n->line = line;
  while (!at(TokenKind::kBlockEnd)) {
    auto name = expect_name();
    if (!name) return Error{name.error()};
    SMOL_TRY(expect_op("="));
    auto value = parse_expression();
    if (!value) return Error{value.error()};
    n->params.push_back(Param{*name, std::move(*value)});
    if (!at_op(",")) break;
    advance();
  }
  SMOL_TRY(expect_block_end());
  std::string found;
  auto body = parse_body({"endwith"}, &found);
  if (!body) return Error{body.error()};
  n->body = std::move(*body);
  SMOL_TRY(close_block(found, "endwith", "with", line));
  return n;
}

Result<NodePtr> Parser::parse_scope(int line, std::string_view end_tag) {
  auto n = std::make_unique<Node>();
  n->kind = NodeKind::kScope;
  n->line = line;
  SMOL_TRY(expect_block_end());
  std::string found;
  auto body = parse_body({end_tag}, &found);
  if (!body) return Error{body.error()};
  n->body = std::move(*body);
  SMOL_TRY(close_block(found, end_tag, "generation", line));
  return n;
}

// ---------------------------------------------------------------------------------------------
// Expressions (Jinja precedence, loosest first): conditional, or, and, not, comparisons and
// `in`, + -, ~, * / // %, **, unary - +, then postfix (. [] ()) and filters / tests.

Result<ExprPtr> Parser::parse_tuple(bool with_condexpr) {
  int line = cur().line;
  std::vector<ExprPtr> items;
  bool saw_comma = false;
  while (true) {
    auto e = parse_expression(with_condexpr);
    if (!e) return e;
    items.push_back(std::move(*e));
    if (!at_op(",")) break;
    saw_comma = true;
    advance();
    if (at(TokenKind::kVarEnd) || at(TokenKind::kBlockEnd) || at_op(")") || at_name("in") ||
        (!with_condexpr && at_name("if"))) {
      break;
    }
  }
  if (!saw_comma) return std::move(items[0]);
  auto t = make(ExprKind::kList, line);
  t->is_tuple = true;
  t->args = std::move(items);
  return t;
}

Result<ExprPtr> Parser::parse_expression(bool with_condexpr) {
  DepthGuard guard(depth_);
  SMOL_TRY(check_depth());
  auto e = parse_or();
  if (!e || !with_condexpr) return e;
  ExprPtr node = std::move(*e);
  while (at_name("if")) {
    int line = cur().line;
    advance();
    auto cond = parse_or();
    if (!cond) return cond;
    auto c = make(ExprKind::kCond, line);
    c->args.push_back(std::move(*cond));
    c->args.push_back(std::move(node));
    if (at_name("else")) {
      advance();
      auto other = parse_expression(true);
      if (!other) return other;
      c->args.push_back(std::move(*other));
    } else {
      c->args.push_back(nullptr);
    }
    node = std::move(c);
  }
  return node;
}

Result<ExprPtr> Parser::parse_or() {
  auto left = parse_and();
  if (!left) return left;
  ExprPtr node = std::move(*left);
  while (at_name("or")) {
    int line = cur().line;
    advance();
    auto right = parse_and();
    if (!right) return right;
    auto e = make(ExprKind::kOr, line);
    e->args.push_back(std::move(node));
    e->args.push_back(std::move(*right));
    node = std::move(e);
  }
  return node;
}

Result<ExprPtr> Parser::parse_and() {
  auto left = parse_not();
  if (!left) return left;
  ExprPtr node = std::move(*left);
  while (at_name("and")) {
    int line = cur().line;
    advance();
    auto right = parse_not();
    if (!right) return right;
    auto e = make(ExprKind::kAnd, line);
    e->args.push_back(std::move(node));
    e->args.push_back(std::move(*right));
    node = std::move(e);
  }
  return node;
}

Result<ExprPtr> Parser::parse_not() {
  if (at_name("not")) {
    DepthGuard guard(depth_);
    SMOL_TRY(check_depth());
    int line = cur().line;
    advance();
    auto operand = parse_not();
    if (!operand) return operand;
    auto e = make(ExprKind::kUnary, line);
    e->name = "not";
    e->args.push_back(std::move(*operand));
    return e;
  }
  return parse_compare();
}

Result<ExprPtr> Parser::parse_compare() {
  auto left = parse_math1();
  if (!left) return left;
  ExprPtr node = std::move(*left);
  while (true) {
    int line = cur().line;
    std::string op;
    if (cur().kind == TokenKind::kOp &&
        (cur().text == "==" || cur().text == "!=" || cur().text == "<" || cur().text == ">" ||
         cur().text == "<=" || cur().text == ">=")) {
      op = cur().text;
      advance();
    } else if (at_name("in")) {
      op = "in";
      advance();
    } else if (at_name("not") && peek().kind == TokenKind::kName && peek().text == "in") {
      op = "not in";
      advance();
      advance();
    } else {
      break;
    }
    auto right = parse_math1();
    if (!right) return right;
    node = binary(op, std::move(node), std::move(*right), line);
  }
  return node;
}

Result<ExprPtr> Parser::parse_math1() {
  auto left = parse_concat();
  if (!left) return left;
  ExprPtr node = std::move(*left);
  while (at_op("+") || at_op("-")) {
    std::string op = cur().text;
    int line = cur().line;
    advance();
    auto right = parse_concat();
    if (!right) return right;
    node = binary(op, std::move(node), std::move(*right), line);
  }
  return node;
}

Result<ExprPtr> Parser::parse_concat() {
  auto left = parse_math2();
  if (!left) return left;
  ExprPtr node = std::move(*left);
  while (at_op("~")) {
    int line = cur().line;
    advance();
    auto right = parse_math2();
    if (!right) return right;
    node = binary("~", std::move(node), std::move(*right), line);
  }
  return node;
}

Result<ExprPtr> Parser::parse_math2() {
  auto left = parse_pow();
  if (!left) return left;
  ExprPtr node = std::move(*left);
  while (at_op("*") || at_op("/") || at_op("//") || at_op("%")) {
    std::string op = cur().text;
    int line = cur().line;
    advance();
    auto right = parse_pow();
    if (!right) return right;
    node = binary(op, std::move(node), std::move(*right), line);
  }
  return node;
}

Result<ExprPtr> Parser::parse_pow() {
  auto left = parse_unary(true);
  if (!left) return left;
  ExprPtr node = std::move(*left);
  while (at_op("**")) {
    int line = cur().line;
    advance();
    auto right = parse_unary(true);
    if (!right) return right;
    node = binary("**", std::move(node), std::move(*right), line);
  }
  return node;
}

Result<ExprPtr> Parser::parse_unary(bool with_filter) {
  DepthGuard guard(depth_);
  SMOL_TRY(check_depth());
  ExprPtr node;
  if (at_op("-") || at_op("+")) {
    int line = cur().line;
    std::string op = cur().text;
    advance();
    auto operand = parse_unary(false);
    if (!operand) return operand;
    node = make(ExprKind::kUnary, line);
    node->name = op;
    node->args.push_back(std::move(*operand));
  } else {
    auto primary = parse_primary();
    if (!primary) return primary;
    node = std::move(*primary);
  }
  auto post = parse_postfix(std::move(node));
  if (!post || !with_filter) return post;
  return parse_filter_expr(std::move(*post));
}

Result<ExprPtr> Parser::parse_primary() {
  const Token& tok = cur();
  int line = tok.line;
  switch (tok.kind) {
    case TokenKind::kName: {
      auto e = make(ExprKind::kLiteral, line);
      if (tok.text == "true" || tok.text == "True") {
        e->literal = Value::boolean(true);
      } else if (tok.text == "false" || tok.text == "False") {
        e->literal = Value::boolean(false);
      } else if (tok.text == "none" || tok.text == "None") {
        e->literal = Value::none();
      } else {
        e->kind = ExprKind::kName;
        e->name = tok.text;
      }
      advance();
      return e;
    }
    case TokenKind::kString: {
      std::string s;
      while (at(TokenKind::kString)) {  // adjacent literals concatenate, as in Python
        s += cur().text;
        advance();
      }
      auto e = make(ExprKind::kLiteral, line);
      e->literal = Value::string(std::move(s));
      return e;
    }
    case TokenKind::kInt:
    case TokenKind::kFloat: {
      auto e = make(ExprKind::kLiteral, line);
      e->literal = tok.kind == TokenKind::kInt ? Value::integer(tok.int_value)
                                               : Value::number(tok.float_value);
      advance();
      return e;
    }
    case TokenKind::kOp:
      if (tok.text == "(") {
        advance();
        if (at_op(")")) {  // empty tuple
          advance();
          auto e = make(ExprKind::kList, line);
          e->is_tuple = true;
          return e;
        }
        auto inner = parse_tuple(true);
        if (!inner) return inner;
        SMOL_TRY(expect_op(")"));
        return inner;
      }
      if (tok.text == "[") {
        advance();
        auto e = make(ExprKind::kList, line);
        while (!at_op("]")) {
          auto item = parse_expression();
          if (!item) return item;
          e->args.push_back(std::move(*item));
          if (!at_op(",")) break;
          advance();
        }
        SMOL_TRY(expect_op("]"));
        return e;
      }
      if (tok.text == "{") {
        advance();
        auto e = make(ExprKind::kDict, line);
        while (!at_op("}")) {
          auto key = parse_expression();
          if (!key) return key;
          SMOL_TRY(expect_op(":"));
          auto value = parse_expression();
          if (!value) return value;
          e->dict_items.emplace_back(std::move(*key), std::move(*value));
          if (!at_op(",")) break;
          advance();
        }
        SMOL_TRY(expect_op("}"));
        return e;
      }
      break;
    default:
      break;
  }
  return err("unexpected " + describe(tok) + " in expression");
}

Result<ExprPtr> Parser::parse_subscript(ExprPtr node) {
  int line = cur().line;
  advance();  // [
  ExprPtr parts[3];
  bool is_slice = false;
  for (int k = 0; k < 3; ++k) {
    if (!at_op(":") && !at_op("]")) {
      auto e = parse_expression();
      if (!e) return e;
      parts[k] = std::move(*e);
    }
    if (k == 2 || !at_op(":")) break;
    is_slice = true;
    advance();
  }
  SMOL_TRY(expect_op("]"));
  if (!is_slice) {
    if (!parts[0]) return err_at(line, "empty subscript");
    auto e = make(ExprKind::kSubscript, line);
    e->args.push_back(std::move(node));
    e->args.push_back(std::move(parts[0]));
    return e;
  }
  auto e = make(ExprKind::kSlice, line);
  e->args.push_back(std::move(node));
  for (auto& part : parts) e->args.push_back(std::move(part));
  return e;
}

Status Parser::parse_call_args(Expr& call) {
  SMOL_TRY(expect_op("("));
  while (!at_op(")")) {
    if (at_op("*") || at_op("**")) return err("unsupported: *args / **kwargs in calls");
    if (at(TokenKind::kName) && peek().kind == TokenKind::kOp && peek().text == "=") {
      std::string key = cur().text;
      advance();
      advance();
      auto value = parse_expression();
      if (!value) return Error{value.error()};
      call.kwargs.emplace_back(key, std::move(*value));
    } else {
      if (!call.kwargs.empty()) return err("positional argument after keyword argument");
      auto value = parse_expression();
      if (!value) return Error{value.error()};
      call.args.push_back(std::move(*value));
    }
    if (!at_op(",")) break;
    advance();
  }
  return expect_op(")");
}

Result<ExprPtr> Parser::parse_postfix(ExprPtr node) {
  while (true) {
    int line = cur().line;
    if (at_op(".")) {
      advance();
      if (at(TokenKind::kInt)) {  // x.0 is x[0]
        auto index = make(ExprKind::kLiteral, line);
        index->literal = Value::integer(cur().int_value);
        advance();
        auto e = make(ExprKind::kSubscript, line);
        e->args.push_back(std::move(node));
        e->args.push_back(std::move(index));
        node = std::move(e);
        continue;
      }
      auto name = expect_name();
      if (!name) return Error{name.error()};
      auto e = make(ExprKind::kAttr, line);
      e->name = *name;
      e->args.push_back(std::move(node));
      node = std::move(e);
    } else if (at_op("[")) {
      auto e = parse_subscript(std::move(node));
      if (!e) return e;
      node = std::move(*e);
    } else if (at_op("(")) {
      auto e = make(ExprKind::kCall, line);
      e->args.push_back(std::move(node));
      SMOL_TRY(parse_call_args(*e));
      node = std::move(e);
    } else {
      return node;
    }
  }
}

// One `| name(args)` step (the caller has not consumed the '|').
Result<ExprPtr> Parser::parse_filter(ExprPtr node) {
  while (at_op("|")) {
    int line = cur().line;
    advance();
    auto name = expect_name();
    if (!name) return Error{name.error()};
    auto e = make(ExprKind::kFilter, line);
    e->name = *name;
    e->args.push_back(std::move(node));
    if (at_op("(")) SMOL_TRY(parse_call_args(*e));
    node = std::move(e);
  }
  return node;
}

Result<ExprPtr> Parser::parse_filter_expr(ExprPtr node) {
  while (true) {
    if (at_op("|")) {
      auto e = parse_filter(std::move(node));
      if (!e) return e;
      node = std::move(*e);
    } else if (at_name("is")) {
      int line = cur().line;
      advance();
      auto e = make(ExprKind::kTest, line);
      if (at_name("not")) {
        e->negated = true;
        advance();
      }
      auto name = expect_name();
      if (!name) return Error{name.error()};
      e->name = *name;
      e->args.push_back(std::move(node));
      if (at_op("(")) {
        SMOL_TRY(parse_call_args(*e));
      } else if ((at(TokenKind::kName) || at(TokenKind::kString) || at(TokenKind::kInt) ||
                  at(TokenKind::kFloat) || at_op("[") || at_op("{")) &&
                 !at_name("else") && !at_name("or") && !at_name("and") && !at_name("is") &&
                 !at_name("if") && !at_name("in") && !at_name("not")) {
        // `x is divisibleby 3`, `x is sameas false`: one argument without parentheses.
        auto arg = parse_primary();
        if (!arg) return arg;
        auto post = parse_postfix(std::move(*arg));
        if (!post) return post;
        e->args.push_back(std::move(*post));
      }
      node = std::move(e);
    } else if (at_op("(")) {
      int line = cur().line;
      auto e = make(ExprKind::kCall, line);
      e->args.push_back(std::move(node));
      SMOL_TRY(parse_call_args(*e));
      node = std::move(e);
    } else {
      return node;
    }
  }
}

}  // namespace

Result<Body> parse_template(std::string_view source, const ParseOptions& options) {
  auto tokens = tokenize(source, options);
  if (!tokens) return Error{tokens.error()};
  Parser parser(std::move(*tokens), options);
  return parser.parse_all();
}

}  // namespace smol::chat
