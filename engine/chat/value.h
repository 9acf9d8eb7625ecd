// Values of the template interpreter: the Python objects a chat template can see (JSON data,
// tuples, namespaces, callables) with Jinja's Undefined.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "smol/chat_template.h"
#include "smol/result.h"

namespace smol::chat {

struct Value;
struct CallArgs;
class Interpreter;

enum class Kind { kUndefined, kNone, kBool, kInt, kFloat, kString, kList, kDict, kCallable };

using List = std::vector<Value>;

// Insertion-ordered string-keyed map (Python dict order); chat data has few keys per object.
struct Dict {
  std::vector<std::pair<std::string, Value>> items;
  const Value* find(std::string_view key) const;
  void set(const std::string& key, Value value);
};

struct Callable {
  std::string name;
  std::function<Result<Value>(Interpreter&, CallArgs&)> fn;
};

struct Value {
  Kind kind = Kind::kUndefined;
  bool b = false;
  int64_t i = 0;
  double f = 0;
  std::string s;  // kString; for kUndefined the name that was missing (error messages)
  std::shared_ptr<List> list;
  std::shared_ptr<Dict> dict;  // namespaces share theirs, so `ns.x = ...` is seen everywhere
  std::shared_ptr<const Callable> fn;
  bool is_tuple = false;      // kList printed as (a, b)
  bool is_namespace = false;  // kDict created by namespace(): attribute assignment allowed

  static Value undefined(std::string hint = {});
  static Value none();
  static Value boolean(bool v);
  static Value integer(int64_t v);
  static Value number(double v);
  static Value string(std::string v);
  static Value make_list(List items, bool tuple = false);
  static Value make_dict(Dict d = {});
  static Value callable(std::string name, std::function<Result<Value>(Interpreter&, CallArgs&)> f);
  static Value from_json(const Json& j);

  bool is_undefined() const { return kind == Kind::kUndefined; }
  bool is_none() const { return kind == Kind::kNone; }
  bool is_string() const { return kind == Kind::kString; }
  bool is_number() const {
    return kind == Kind::kInt || kind == Kind::kFloat || kind == Kind::kBool;
  }
  bool truthy() const;
  double as_double() const;  // numbers only
};

struct CallArgs {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keyword;
  int line = 0;

  // Takes positional `index` or keyword `name` (removing the keyword); `fallback` if absent.
  Value get(size_t index, std::string_view name, Value fallback = Value::undefined());
  bool has(size_t index, std::string_view name) const;
};

// Python str(): strings as-is, containers as their repr.
std::string to_str(const Value& v);
// Python repr(): 'quoted' strings, (1, 2), {'k': True}, None.
std::string to_repr(const Value& v);
// Python float.__repr__: 1.0, 0.1, 1e+20, inf, nan.
std::string float_repr(double v);

struct JsonDumpOptions {
  int indent = -1;  // < 0: one line with ", " and ": "
  bool sort_keys = false;
  bool ensure_ascii = false;
  std::optional<std::string> item_separator;  // unset: ", " (or "," when indenting)
  std::optional<std::string> key_separator;   // unset: ": "
};
// Python json.dumps; Undefined and callables are errors.
Result<std::string> to_json(const Value& v, const JsonDumpOptions& options);

bool values_equal(const Value& a, const Value& b);
const char* kind_name(const Value& v);  // Python type name, for error messages

// UTF-8 helpers: strings index and measure by code point, as Python does.
std::vector<size_t> code_point_offsets(std::string_view s);  // starts + s.size() at the end
size_t code_point_count(std::string_view s);
char32_t decode_at(std::string_view s, size_t offset, size_t* length);
void append_utf8(std::string& out, char32_t cp);
bool is_py_space(char32_t cp);

}  // namespace smol::chat
