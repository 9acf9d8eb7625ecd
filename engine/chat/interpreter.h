// Tree-walking renderer. One Interpreter renders one template once; it owns the scope stack,
// the output sinks and the work counters that keep hostile templates bounded.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "ast.h"
#include "smol/chat_template.h"
#include "value.h"

namespace smol::chat {

enum class Flow { kNormal, kBreak, kContinue };

class Interpreter {
 public:
  explicit Interpreter(const RenderOptions& options);
  ~Interpreter();  // breaks the reference cycles macros and namespaces can form
  Interpreter(const Interpreter&) = delete;
  Interpreter& operator=(const Interpreter&) = delete;

  Result<std::string> render(const Body& body, const Json& context);

  // --- services for builtins ----------------------------------------------------------------
  const RenderOptions& options() const { return options_; }
  // "chat template line N: what" for the node being evaluated.
  Error fail(const std::string& what) const;
  Status count_step();
  Status check_size(size_t bytes) const;  // a string/list about to be built
  Result<Value> call(const Value& callee, CallArgs& args);
  Result<Value> get_attr(const Value& obj, const std::string& name);
  Result<Value> get_item(const Value& obj, const Value& key);
  Result<Value> apply_filter(const std::string& name, Value value, CallArgs& args);
  Result<bool> apply_test(const std::string& name, const Value& value, CallArgs& args);
  // Raises Jinja's UndefinedError for `v` if it is undefined (operations other than printing,
  // testing and iterating fail on Undefined).
  Status require_defined(const Value& v) const;

 private:
  using Frame = std::unordered_map<std::string, Value>;
  using Scopes = std::vector<std::shared_ptr<Frame>>;

  Result<Flow> exec_body(const Body& body);
  Result<Flow> exec(const Node& node);
  Result<Flow> exec_for(const Node& node);
  Status exec_set(const Node& node);
  Status exec_macro(const Node& node);
  Status exec_call_block(const Node& node);
  Result<std::string> capture(const Body& body);
  Status write(std::string_view text);

  Result<Value> eval(const Expr& e);
  Result<Value> eval_node(const Expr& e);
  Result<Value> eval_binary(const Expr& e);
  Result<Value> eval_call(const Expr& e);
  Result<Value> eval_slice(const Expr& e);
  Status eval_args(const Expr& e, size_t first, CallArgs& args);

  Value lookup(const std::string& name) const;
  void assign(const std::string& name, Value v) { (*scopes_.back())[name] = std::move(v); }
  Value make_macro(const Node& node, Scopes scopes);

  const RenderOptions& options_;
  Scopes scopes_;
  // Frames captured by macros (a macro stored in a frame it captures is a cycle) and namespaces
  // that were given containers or callables (`ns.self = ns`): cleared when rendering ends.
  std::vector<std::shared_ptr<Frame>> captured_frames_;
  std::vector<std::shared_ptr<Dict>> linked_namespaces_;
  std::unordered_set<const void*> tracked_;  // dedup for the two lists above
  std::string* out_ = nullptr;
  uint64_t steps_ = 0;
  int call_depth_ = 0;
  int line_ = 0;
};

// Builtins (builtins.cpp).
void install_globals(std::unordered_map<std::string, Value>& frame);
bool is_known_filter(std::string_view name);
bool is_known_test(std::string_view name);
Result<Value> builtin_filter(Interpreter& in, const std::string& name, Value value, CallArgs& args);
Result<bool> builtin_test(Interpreter& in, const std::string& name, const Value& value,
                          CallArgs& args);
// A bound method of a str / dict / list value, or Undefined if there is none by that name.
Value builtin_method(const Value& obj, const std::string& name);
// What iterating `v` yields (list elements, string characters, dict keys; Undefined is empty).
Result<List> items_of(const Value& v);

// Operators shared by the interpreter and filters.
Result<Value> binary_op(Interpreter& in, const std::string& op, const Value& a, const Value& b);
Result<bool> less_than(const Value& a, const Value& b);
Result<bool> contains(const Value& container, const Value& item);

}  // namespace smol::chat
