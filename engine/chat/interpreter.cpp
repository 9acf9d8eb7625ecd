#include "interpreter.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <optional>

namespace smol::chat {

namespace {
constexpr std::string_view kLinePrefix = "chat template line ";
}

Interpreter::Interpreter(const RenderOptions& options) : options_(options) {}

Interpreter::~Interpreter() {
  for (auto& frame : captured_frames_) frame->clear();
  for (auto& dict : linked_namespaces_) dict->items.clear();
}

Error Interpreter::fail(const std::string& what) const {
  if (what.rfind(kLinePrefix, 0) == 0) return Error{what};
  return Error{std::string(kLinePrefix) + std::to_string(line_) + ": " + what};
}

Status Interpreter::count_step() {
  if (++steps_ > options_.limits.max_steps) {
    return fail("render exceeded " + std::to_string(options_.limits.max_steps) +
                " steps (runaway loop?)");
  }
  return {};
}

Status Interpreter::check_size(size_t bytes) const {
  if (bytes > options_.limits.max_output_bytes) {
    return fail("value of " + std::to_string(bytes) + " bytes exceeds the " +
                std::to_string(options_.limits.max_output_bytes) + "-byte limit");
  }
  return {};
}

Status Interpreter::require_defined(const Value& v) const {
  if (!v.is_undefined()) return {};
  return fail(v.s.empty() ? "value is undefined" : v.s);
}

Status Interpreter::write(std::string_view text) {
  if (out_->size() + text.size() > options_.limits.max_output_bytes) {
    return fail("output exceeds " + std::to_string(options_.limits.max_output_bytes) + " bytes");
  }
  out_->append(text);
  return {};
}

Value Interpreter::lookup(const std::string& name) const {
  for (auto it = scopes_.rbegin(); it != scopes_.rend(); ++it) {
    auto found = (*it)->find(name);
    if (found != (*it)->end()) return found->second;
  }
  return Value::undefined("'" + name + "' is undefined");
}

Result<std::string> Interpreter::render(const Body& body, const Json& context) {
  if (!context.is_object() && !context.is_null()) {
    return Error{"chat template: render context must be a JSON object"};
  }
  auto globals = std::make_shared<Frame>();
  install_globals(*globals);
  auto top = std::make_shared<Frame>();
  if (context.is_object()) {
    for (auto it = context.begin(); it != context.end(); ++it) {
      (*top)[it.key()] = Value::from_json(*it);
    }
  }
  scopes_ = {globals, top};
  std::string out;
  out_ = &out;
  auto flow = exec_body(body);
  if (!flow) return Error{flow.error()};
  return out;
}

Result<std::string> Interpreter::capture(const Body& body) {
  std::string buffer;
  std::string* saved = out_;
  out_ = &buffer;
  auto flow = exec_body(body);
  out_ = saved;
  if (!flow) return Error{flow.error()};
  return buffer;
}

Result<Flow> Interpreter::exec_body(const Body& body) {
  for (const auto& node : body) {
    auto flow = exec(*node);
    if (!flow || *flow != Flow::kNormal) return flow;
  }
  return Flow::kNormal;
}

Result<Flow> Interpreter::exec(const Node& node) {
  line_ = node.line;
  SMOL_TRY(count_step());
  switch (node.kind) {
    case NodeKind::kText:
      SMOL_TRY(write(node.text));
      return Flow::kNormal;
    case NodeKind::kOutput: {
      auto v = eval(*node.expr);
      if (!v) return Error{v.error()};
      SMOL_TRY(write(to_str(*v)));
      return Flow::kNormal;
    }
    case NodeKind::kIf:
      for (const auto& [cond, body] : node.branches) {
        bool take = true;
        if (cond) {
          auto v = eval(*cond);
          if (!v) return Error{v.error()};
          take = v->truthy();
        }
        if (take) return exec_body(body);
      }
      return Flow::kNormal;
    case NodeKind::kFor:
      return exec_for(node);
    case NodeKind::kSet:
    case NodeKind::kSetBlock:
      SMOL_TRY(exec_set(node));
      return Flow::kNormal;
    case NodeKind::kMacro:
      SMOL_TRY(exec_macro(node));
      return Flow::kNormal;
    case NodeKind::kCallBlock:
      SMOL_TRY(exec_call_block(node));
      return Flow::kNormal;
    case NodeKind::kFilterBlock: {
      auto text = capture(node.body);
      if (!text) return Error{text.error()};
      scopes_.push_back(std::make_shared<Frame>());
      assign("", Value::string(std::move(*text)));  // the placeholder name of the chain
      auto v = eval(*node.filter);
      scopes_.pop_back();
      if (!v) return Error{v.error()};
      SMOL_TRY(write(to_str(*v)));
      return Flow::kNormal;
    }
    case NodeKind::kWith: {
      auto frame = std::make_shared<Frame>();
      for (const auto& param : node.params) {
        auto v = eval(*param.default_value);  // evaluated in the outer scope, as Jinja does
        if (!v) return Error{v.error()};
        (*frame)[param.name] = std::move(*v);
      }
      scopes_.push_back(frame);
      auto flow = exec_body(node.body);
      scopes_.pop_back();
      return flow;
    }
    case NodeKind::kScope: {
      // transformers implements {% generation %} as a call block, so its body is a scope.
      scopes_.push_back(std::make_shared<Frame>());
      auto flow = exec_body(node.body);
      scopes_.pop_back();
      return flow;
    }
    case NodeKind::kBreak:
      return Flow::kBreak;
    case NodeKind::kContinue:
      return Flow::kContinue;
  }
  return Flow::kNormal;
}

namespace {

// Items a for loop walks: list elements, string characters, dict keys; Undefined is empty.
Result<List> iterable_items(Interpreter& in, const Value& v) {
  auto items = items_of(v);
  if (!items.ok()) return in.fail(items.error());
  return items;
}

}  // namespace

Result<Flow> Interpreter::exec_for(const Node& node) {
  auto iterable = eval(*node.expr);
  if (!iterable) return Error{iterable.error()};
  // Lists are walked in place (shared, immutable); other iterables are materialised.
  std::shared_ptr<const List> items_ptr;
  if (iterable->kind == Kind::kList) {
    items_ptr = iterable->list;
  } else {
    auto items_r = iterable_items(*this, *iterable);
    if (!items_r) return Error{items_r.error()};
    items_ptr = std::make_shared<const List>(std::move(*items_r));
  }

  auto bind_targets = [&](Frame& frame, const Value& item) -> Status {
    if (node.targets.size() == 1) {
      frame[node.targets[0]] = item;
      return {};
    }
    auto parts = iterable_items(*this, item);
    if (!parts) return Error{parts.error()};
    if (parts->size() != node.targets.size()) {
      return fail("cannot unpack " + std::to_string(parts->size()) + " values into " +
                  std::to_string(node.targets.size()) + " loop variables");
    }
    for (size_t k = 0; k < parts->size(); ++k) frame[node.targets[k]] = (*parts)[k];
    return {};
  };

  if (node.filter) {  // `for x in xs if cond`: loop.* counts only the kept items
    List kept;
    for (const auto& item : *items_ptr) {
      SMOL_TRY(count_step());
      scopes_.push_back(std::make_shared<Frame>());
      Status bound = bind_targets(*scopes_.back(), item);
      Result<Value> keep = bound.ok() ? eval(*node.filter) : Result<Value>(Error{bound.error()});
      scopes_.pop_back();
      if (!keep) return Error{keep.error()};
      if (keep->truthy()) kept.push_back(item);
    }
    items_ptr = std::make_shared<const List>(std::move(kept));
  }
  const List& items = *items_ptr;

  // The else body is outside the loop: a break in it belongs to an enclosing loop.
  if (items.empty()) return exec_body(node.else_body);
  const int64_t n = static_cast<int64_t>(items.size());
  auto cycle_index = std::make_shared<int64_t>(0);
  Value cycle = Value::callable(
      "loop.cycle", [cycle_index](Interpreter& in, CallArgs& args) -> Result<Value> {
        if (args.positional.empty()) return in.fail("loop.cycle() needs at least one argument");
        return args.positional[static_cast<size_t>(*cycle_index) % args.positional.size()];
      });
  // One `loop` object per loop, updated in place each iteration (Jinja's LoopContext is one
  // object too). Slots, in order: index index0 revindex revindex0 first last length depth
  // depth0 previtem nextitem cycle.
  Value loop = Value::make_dict();
  for (const char* key : {"index", "index0", "revindex", "revindex0", "first", "last", "length",
                          "depth", "depth0", "previtem", "nextitem"}) {
    loop.dict->items.emplace_back(key, Value());
  }
  loop.dict->items.emplace_back("cycle", cycle);
  std::shared_ptr<Frame> frame;
  for (int64_t k = 0; k < n; ++k) {
    line_ = node.line;
    SMOL_TRY(count_step());
    // Each iteration starts with a fresh scope; the map is reused unless a macro captured it.
    if (!frame || tracked_.count(frame.get())) {
      frame = std::make_shared<Frame>();
    } else {
      frame->clear();
    }
    SMOL_TRY(bind_targets(*frame, items[k]));
    auto& slots = loop.dict->items;
    slots[0].second = Value::integer(k + 1);
    slots[1].second = Value::integer(k);
    slots[2].second = Value::integer(n - k);
    slots[3].second = Value::integer(n - k - 1);
    slots[4].second = Value::boolean(k == 0);
    slots[5].second = Value::boolean(k == n - 1);
    slots[6].second = Value::integer(n);
    slots[7].second = Value::integer(1);
    slots[8].second = Value::integer(0);
    slots[9].second = k > 0 ? items[k - 1] : Value::undefined();
    slots[10].second = k + 1 < n ? items[k + 1] : Value::undefined();
    *cycle_index = k;
    (*frame)["loop"] = loop;
    scopes_.push_back(frame);
    auto flow = exec_body(node.body);
    scopes_.pop_back();
    if (!flow) return flow;
    if (*flow == Flow::kBreak) break;
  }
  return Flow::kNormal;
}

Status Interpreter::exec_set(const Node& node) {
  Value value;
  if (node.kind == NodeKind::kSetBlock) {
    auto text = capture(node.body);
    if (!text) return Error{text.error()};
    value = Value::string(std::move(*text));
    if (node.filter) {
      scopes_.push_back(std::make_shared<Frame>());
      assign("", value);
      auto v = eval(*node.filter);
      scopes_.pop_back();
      if (!v) return Error{v.error()};
      value = std::move(*v);
    }
  } else {
    auto v = eval(*node.expr);
    if (!v) return Error{v.error()};
    value = std::move(*v);
  }
  line_ = node.line;
  if (!node.attr_target.empty()) {
    Value target = lookup(node.targets[0]);
    if (target.kind != Kind::kDict || !target.is_namespace) {
      return fail("cannot assign attribute '" + node.attr_target + "' on '" + node.targets[0] +
                  "': not a namespace()");
    }
    if (value.kind == Kind::kList || value.kind == Kind::kDict || value.kind == Kind::kCallable) {
      if (tracked_.insert(target.dict.get()).second) linked_namespaces_.push_back(target.dict);
    }
    target.dict->set(node.attr_target, std::move(value));
    return {};
  }
  if (node.targets.size() == 1) {
    assign(node.targets[0], std::move(value));
    return {};
  }
  auto parts = iterable_items(*this, value);
  if (!parts) return Error{parts.error()};
  if (parts->size() != node.targets.size()) {
    return fail("cannot unpack " + std::to_string(parts->size()) + " values into " +
                std::to_string(node.targets.size()) + " names");
  }
  for (size_t k = 0; k < parts->size(); ++k) assign(node.targets[k], (*parts)[k]);
  return {};
}

Value Interpreter::make_macro(const Node& node, Scopes scopes) {
  for (const auto& frame : scopes) {
    if (tracked_.insert(frame.get()).second) captured_frames_.push_back(frame);
  }
  const Node* def = &node;
  return Value::callable(node.targets.empty() ? "caller" : node.targets[0],
                         [def, scopes](Interpreter& in, CallArgs& args) -> Result<Value> {
                           if (in.call_depth_ >= in.options_.limits.max_call_depth) {
                             return in.fail("macro calls nested deeper than " +
                                            std::to_string(in.options_.limits.max_call_depth));
                           }
                           auto frame = std::make_shared<Frame>();
                           List varargs;
                           for (size_t k = 0; k < args.positional.size(); ++k) {
                             if (k < def->params.size()) {
                               (*frame)[def->params[k].name] = args.positional[k];
                             } else {
                               varargs.push_back(args.positional[k]);
                             }
                           }
                           Dict kwargs;
                           Value caller = Value::undefined("'caller' is undefined");
                           for (auto& [key, value] : args.keyword) {
                             if (key == "caller") {
                               caller = value;
                               continue;
                             }
                             bool is_param = false;
                             for (size_t k = 0; k < def->params.size(); ++k) {
                               if (def->params[k].name != key) continue;
                               if (k < args.positional.size()) {
                                 return in.fail("macro '" + def->targets[0] +
                                                "' got multiple values for '" + key + "'");
                               }
                               (*frame)[key] = value;
                               is_param = true;
                             }
                             if (!is_param) kwargs.set(key, value);
                           }
                           Scopes saved = std::move(in.scopes_);
                           in.scopes_ = scopes;
                           in.scopes_.push_back(frame);
                           ++in.call_depth_;
                           Status defaults_ok;
                           for (const auto& param : def->params) {
                             if (frame->count(param.name)) continue;
                             if (!param.default_value) {
                               (*frame)[param.name] =
                                   Value::undefined("'" + param.name + "' is undefined");
                               continue;
                             }
                             auto v = in.eval(*param.default_value);
                             if (!v) {
                               defaults_ok = Error{v.error()};
                               break;
                             }
                             (*frame)[param.name] = std::move(*v);
                           }
                           (*frame)["varargs"] = Value::make_list(std::move(varargs), true);
                           (*frame)["kwargs"] = Value::make_dict(std::move(kwargs));
                           if (!caller.is_undefined()) (*frame)["caller"] = caller;
                           int saved_line = in.line_;
                           Result<std::string> text =
                               defaults_ok.ok() ? in.capture(def->body)
                                                : Result<std::string>(Error{defaults_ok.error()});
                           --in.call_depth_;
                           in.scopes_ = std::move(saved);
                           in.line_ = saved_line;
                           if (!text) return Error{text.error()};
                           return Value::string(std::move(*text));
                         });
}

Status Interpreter::exec_macro(const Node& node) {
  assign(node.targets[0], make_macro(node, scopes_));
  return {};
}

Status Interpreter::exec_call_block(const Node& node) {
  // caller() renders the block body in the scope where the call block appears.
  Value caller = make_macro(node, scopes_);
  const Expr& call = *node.expr;
  auto callee = eval(*call.args[0]);
  if (!callee) return Error{callee.error()};
  CallArgs args;
  SMOL_TRY(eval_args(call, 1, args));
  args.keyword.emplace_back("caller", caller);
  auto v = this->call(*callee, args);
  if (!v) return Error{v.error()};
  return write(to_str(*v));
}

// ---------------------------------------------------------------------------------------------

Status Interpreter::eval_args(const Expr& e, size_t first, CallArgs& args) {
  for (size_t k = first; k < e.args.size(); ++k) {
    auto v = eval(*e.args[k]);
    if (!v) return Error{v.error()};
    args.positional.push_back(std::move(*v));
  }
  for (const auto& [key, expr] : e.kwargs) {
    auto v = eval(*expr);
    if (!v) return Error{v.error()};
    args.keyword.emplace_back(key, std::move(*v));
  }
  args.line = e.line;
  return {};
}

Result<Value> Interpreter::call(const Value& callee, CallArgs& args) {
  if (callee.kind != Kind::kCallable) {
    SMOL_TRY(require_defined(callee));
    return fail(std::string("'") + kind_name(callee) + "' object is not callable");
  }
  auto r = callee.fn->fn(*this, args);
  if (!r) return fail(r.error());
  return r;
}

Result<Value> Interpreter::apply_filter(const std::string& name, Value value, CallArgs& args) {
  auto r = builtin_filter(*this, name, std::move(value), args);
  if (!r) return fail(r.error());
  return r;
}

Result<bool> Interpreter::apply_test(const std::string& name, const Value& value, CallArgs& args) {
  auto r = builtin_test(*this, name, value, args);
  if (!r) return fail(r.error());
  return r;
}

Result<Value> Interpreter::get_attr(const Value& obj, const std::string& name) {
  SMOL_TRY(require_defined(obj));
  if (obj.kind == Kind::kDict) {
    if (!obj.is_namespace) {
      Value method = builtin_method(obj, name);  // Python attributes win over keys
      if (!method.is_undefined()) return method;
    }
    if (const Value* v = obj.dict->find(name)) return *v;
    return Value::undefined("'dict object' has no attribute '" + name + "'");
  }
  Value method = builtin_method(obj, name);
  if (!method.is_undefined()) return method;
  return Value::undefined(std::string("'") + kind_name(obj) + " object' has no attribute '" + name +
                          "'");
}

Result<Value> Interpreter::get_item(const Value& obj, const Value& key) {
  SMOL_TRY(require_defined(obj));
  if (obj.kind == Kind::kDict && key.kind == Kind::kString) {
    if (const Value* v = obj.dict->find(key.s)) return *v;
    if (!obj.is_namespace) {
      Value method = builtin_method(obj, key.s);
      if (!method.is_undefined()) return method;
    }
    return Value::undefined("'dict object' has no attribute '" + key.s + "'");
  }
  if ((obj.kind == Kind::kList || obj.kind == Kind::kString) &&
      (key.kind == Kind::kInt || key.kind == Kind::kBool)) {
    int64_t index = key.kind == Kind::kBool ? key.b : key.i;
    if (obj.kind == Kind::kList) {
      int64_t n = static_cast<int64_t>(obj.list->size());
      if (index < 0) index += n;
      if (index < 0 || index >= n) {
        return Value::undefined(std::string(kind_name(obj)) + " object has no element " +
                                std::to_string(key.kind == Kind::kBool ? key.b : key.i));
      }
      return (*obj.list)[static_cast<size_t>(index)];
    }
    auto offsets = code_point_offsets(obj.s);
    int64_t n = static_cast<int64_t>(offsets.size()) - 1;
    if (index < 0) index += n;
    if (index < 0 || index >= n)
      return Value::undefined("str object has no element " + std::to_string(index));
    return Value::string(obj.s.substr(offsets[index], offsets[index + 1] - offsets[index]));
  }
  if (key.kind == Kind::kString) return get_attr(obj, key.s);
  return Value::undefined(std::string(kind_name(obj)) + " object has no element " + to_repr(key));
}

Result<Value> Interpreter::eval_slice(const Expr& e) {
  auto obj = eval(*e.args[0]);
  if (!obj) return obj;
  std::optional<int64_t> bounds[3];
  for (int k = 0; k < 3; ++k) {
    if (!e.args[k + 1]) continue;
    auto v = eval(*e.args[k + 1]);
    if (!v) return v;
    if (v->is_none()) continue;
    if (v->kind != Kind::kInt && v->kind != Kind::kBool) {
      return fail("slice indices must be integers or None");
    }
    bounds[k] = v->kind == Kind::kBool ? v->b : v->i;
  }
  SMOL_TRY(require_defined(*obj));
  if (obj->kind != Kind::kList && obj->kind != Kind::kString) {
    return Value::undefined(std::string(kind_name(*obj)) + " object is not sliceable");
  }
  std::vector<size_t> offsets;
  int64_t n;
  if (obj->kind == Kind::kString) {
    offsets = code_point_offsets(obj->s);
    n = static_cast<int64_t>(offsets.size()) - 1;
  } else {
    n = static_cast<int64_t>(obj->list->size());
  }
  int64_t step = bounds[2].value_or(1);
  if (step == 0) return fail("slice step cannot be zero");
  // Python's slice.indices().
  auto clamp = [&](std::optional<int64_t> b, int64_t dflt) {
    if (!b) return dflt;
    int64_t v = *b;
    if (v < 0) {
      v += n;
      if (v < 0) v = step < 0 ? -1 : 0;
    } else if (v >= n) {
      v = step < 0 ? n - 1 : n;
    }
    return v;
  };
  int64_t start = clamp(bounds[0], step < 0 ? n - 1 : 0);
  int64_t stop = clamp(bounds[1], step < 0 ? -1 : n);
  std::vector<int64_t> picks;
  for (int64_t k = start; step > 0 ? k < stop : k > stop; k += step) picks.push_back(k);
  if (obj->kind == Kind::kString) {
    std::string s;
    for (int64_t k : picks) s.append(obj->s, offsets[k], offsets[k + 1] - offsets[k]);
    return Value::string(std::move(s));
  }
  List out;
  for (int64_t k : picks) out.push_back((*obj->list)[k]);
  return Value::make_list(std::move(out), obj->is_tuple);
}

Result<Value> Interpreter::eval_call(const Expr& e) {
  auto callee = eval(*e.args[0]);
  if (!callee) return callee;
  CallArgs args;
  SMOL_TRY(eval_args(e, 1, args));
  line_ = e.line;
  return call(*callee, args);
}

Result<Value> Interpreter::eval(const Expr& e) {
  auto v = eval_node(e);
  // Big strings are copied as they flow and big lists took work to build: charge the step
  // budget in proportion, so size limits and step limits together bound the total work.
  if (v.ok() && (v->s.size() >= 4096 || (v->list && v->list->size() >= 1024))) {
    steps_ += v->s.size() / 256 + (v->list ? v->list->size() / 4 : 0);
    SMOL_TRY(count_step());
  }
  return v;
}

Result<Value> Interpreter::eval_node(const Expr& e) {
  line_ = e.line;
  SMOL_TRY(count_step());
  switch (e.kind) {
    case ExprKind::kLiteral:
      return e.literal;
    case ExprKind::kName:
      return lookup(e.name);
    case ExprKind::kList: {
      List items;
      for (const auto& item : e.args) {
        auto v = eval(*item);
        if (!v) return v;
        items.push_back(std::move(*v));
      }
      return Value::make_list(std::move(items), e.is_tuple);
    }
    case ExprKind::kDict: {
      Dict d;
      for (const auto& [k, v] : e.dict_items) {
        auto key = eval(*k);
        if (!key) return key;
        if (key->kind != Kind::kString) return fail("dict literal keys must be strings");
        auto value = eval(*v);
        if (!value) return value;
        d.set(key->s, std::move(*value));
      }
      return Value::make_dict(std::move(d));
    }
    case ExprKind::kAttr: {
      auto obj = eval(*e.args[0]);
      if (!obj) return obj;
      line_ = e.line;
      return get_attr(*obj, e.name);
    }
    case ExprKind::kSubscript: {
      auto obj = eval(*e.args[0]);
      if (!obj) return obj;
      auto key = eval(*e.args[1]);
      if (!key) return key;
      line_ = e.line;
      return get_item(*obj, *key);
    }
    case ExprKind::kSlice:
      return eval_slice(e);
    case ExprKind::kCall:
      return eval_call(e);
    case ExprKind::kFilter: {
      auto value = eval(*e.args[0]);
      if (!value) return value;
      CallArgs args;
      SMOL_TRY(eval_args(e, 1, args));
      line_ = e.line;
      return apply_filter(e.name, std::move(*value), args);
    }
    case ExprKind::kTest: {
      auto value = eval(*e.args[0]);
      if (!value) return value;
      CallArgs args;
      SMOL_TRY(eval_args(e, 1, args));
      line_ = e.line;
      auto r = apply_test(e.name, *value, args);
      if (!r) return Error{r.error()};
      return Value::boolean(*r != e.negated);
    }
    case ExprKind::kUnary: {
      auto v = eval(*e.args[0]);
      if (!v) return v;
      line_ = e.line;
      if (e.name == "not") return Value::boolean(!v->truthy());
      SMOL_TRY(require_defined(*v));
      if (v->kind == Kind::kFloat) return Value::number(e.name == "-" ? -v->f : v->f);
      if (v->kind == Kind::kInt || v->kind == Kind::kBool) {
        int64_t i = v->kind == Kind::kBool ? v->b : v->i;
        if (e.name == "-" && i == INT64_MIN) return fail("integer overflow");
        return Value::integer(e.name == "-" ? -i : i);
      }
      return fail("bad operand type for unary " + e.name + ": '" + kind_name(*v) + "'");
    }
    case ExprKind::kBinary:
      return eval_binary(e);
    case ExprKind::kAnd:
    case ExprKind::kOr: {
      auto left = eval(*e.args[0]);
      if (!left) return left;
      // Python semantics: the deciding operand itself is the result.
      if (left->truthy() == (e.kind == ExprKind::kOr)) return left;
      return eval(*e.args[1]);
    }
    case ExprKind::kCond: {
      auto cond = eval(*e.args[0]);
      if (!cond) return cond;
      if (cond->truthy()) return eval(*e.args[1]);
      if (!e.args[2]) return Value::undefined("the inline if-expression has no else branch");
      return eval(*e.args[2]);
    }
  }
  return fail("unhandled expression");
}

Result<Value> Interpreter::eval_binary(const Expr& e) {
  auto a = eval(*e.args[0]);
  if (!a) return a;
  auto b = eval(*e.args[1]);
  if (!b) return b;
  line_ = e.line;
  auto r = binary_op(*this, e.name, *a, *b);
  if (!r) return fail(r.error());
  return r;
}

}  // namespace smol::chat
