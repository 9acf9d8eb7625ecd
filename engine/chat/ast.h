// Syntax tree of a parsed template. Built once by the parser, then shared read-only by renders.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "value.h"

namespace smol::chat {

struct Expr;
struct Node;
using ExprPtr = std::unique_ptr<Expr>;
using NodePtr = std::unique_ptr<Node>;
using Body = std::vector<NodePtr>;

enum class ExprKind {
  kLiteral,    // literal
  kName,       // name
  kList,       // args = items (is_tuple for tuples)
  kDict,       // kwargs-like pairs in dict_items
  kAttr,       // args[0].name
  kSubscript,  // args[0][args[1]]
  kSlice,      // args[0][args[1]:args[2]:args[3]] (null = omitted)
  kCall,       // args[0](args[1..], kwargs)
  kFilter,     // args[0] | name(args[1..], kwargs)
  kTest,       // args[0] is [not] name(args[1..])
  kUnary,      // op args[0]: "-", "+", "not"
  kBinary,     // args[0] op args[1]: + - * / // % ** ~ == != < > <= >= in "not in"
  kAnd,
  kOr,
  kCond,  // args[1] if args[0] else args[2] (args[2] may be null)
};

struct Expr {
  ExprKind kind;
  int line = 0;
  std::string name;  // name / attribute / filter / test / operator
  Value literal;
  bool negated = false;  // `is not`
  bool is_tuple = false;
  std::vector<ExprPtr> args;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
  std::vector<std::pair<ExprPtr, ExprPtr>> dict_items;
};

enum class NodeKind {
  kText,
  kOutput,       // {{ expr }}
  kIf,           // branches (null condition = else)
  kFor,          // targets in expr [if filter] body [else else_body]
  kSet,          // targets = expr, or ns.attr = expr (attr_target)
  kSetBlock,     // {% set name %}body{% endset %}, optional filters
  kMacro,        // macro name(params) body
  kCallBlock,    // {% call(params) expr %}body{% endcall %}
  kFilterBlock,  // {% filter f %}body{% endfilter %}
  kWith,         // {% with a = 1 %}body{% endwith %}
  kScope,        // a body in its own scope that prints as-is ({% generation %})
  kBreak,
  kContinue,
};

struct Param {
  std::string name;
  ExprPtr default_value;  // may be null
};

struct Node {
  NodeKind kind;
  int line = 0;
  std::string text;                  // kText
  ExprPtr expr;                      // output / for iterable / set value / call-block call
  ExprPtr filter;                    // for: `if` condition; set-block / filter-block: filter chain
                                     // applied to a placeholder (kName "\x01block")
  std::vector<std::string> targets;  // for / set names; macro: name in targets[0]
  std::string attr_target;           // set ns.attr: targets[0] = ns, this = attr
  std::vector<std::pair<ExprPtr, Body>> branches;
  Body body;
  Body else_body;
  std::vector<Param> params;  // macro / call block / with (name = value)
};

}  // namespace smol::chat
