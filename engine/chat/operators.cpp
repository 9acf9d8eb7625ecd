// Python semantics of the binary operators on template values.
#include <algorithm>
#include <cctype>
#include <climits>
#include <cmath>
#include <cstdio>

#include "interpreter.h"

namespace smol::chat {
namespace {

bool is_intlike(const Value& v) { return v.kind == Kind::kInt || v.kind == Kind::kBool; }
int64_t as_int(const Value& v) { return v.kind == Kind::kBool ? v.b : v.i; }

Error type_error(const std::string& op, const Value& a, const Value& b) {
  return Error{"unsupported operand type(s) for " + op + ": '" + kind_name(a) + "' and '" +
               kind_name(b) + "'"};
}

// Python's floor division and modulo for integers.
int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}
int64_t floor_mod(int64_t a, int64_t b) {
  int64_t m = a % b;
  if (m != 0 && ((m < 0) != (b < 0))) m += b;
  return m;
}

Result<Value> repeat(Interpreter& in, const Value& seq, int64_t times) {
  if (times < 0) times = 0;
  size_t unit = seq.kind == Kind::kString ? seq.s.size() : seq.list->size();
  if (unit != 0 && static_cast<uint64_t>(times) > in.options().limits.max_output_bytes / unit) {
    return Error{"repetition result too large"};
  }
  if (seq.kind == Kind::kString) {
    std::string out;
    out.reserve(unit * times);
    for (int64_t k = 0; k < times; ++k) out += seq.s;
    return Value::string(std::move(out));
  }
  if (unit * times > in.options().limits.max_list_size) return Error{"repetition result too large"};
  List out;
  for (int64_t k = 0; k < times; ++k) out.insert(out.end(), seq.list->begin(), seq.list->end());
  return Value::make_list(std::move(out), seq.is_tuple);
}

// printf-style `fmt % args` (the subset templates use: %s %r %d %i %f %.Nf %%).
Result<Value> percent_format(const std::string& fmt, const Value& args) {
  List items = args.kind == Kind::kList && args.is_tuple ? *args.list : List{args};
  size_t next = 0;
  std::string out;
  for (size_t k = 0; k < fmt.size(); ++k) {
    if (fmt[k] != '%') {
      out += fmt[k];
      continue;
    }
    if (++k >= fmt.size()) return Error{"incomplete format"};
    int precision = -1;
    if (fmt[k] == '.') {
      precision = 0;
      while (++k < fmt.size() && std::isdigit(static_cast<unsigned char>(fmt[k]))) {
        precision = precision * 10 + (fmt[k] - '0');
      }
      if (k >= fmt.size()) return Error{"incomplete format"};
    }
    char conv = fmt[k];
    if (conv == '%') {
      out += '%';
      continue;
    }
    if (next >= items.size()) return Error{"not enough arguments for format string"};
    const Value& v = items[next++];
    switch (conv) {
      case 's':
        out += to_str(v);
        break;
      case 'r':
        out += to_repr(v);
        break;
      case 'd':
      case 'i':
        if (!v.is_number()) return Error{"%d format: a number is required"};
        out += std::to_string(v.kind == Kind::kFloat ? static_cast<int64_t>(v.f) : as_int(v));
        break;
      case 'f': {
        if (!v.is_number()) return Error{"%f format: a number is required"};
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.*f", precision < 0 ? 6 : std::min(precision, 30),
                      v.as_double());
        out += buf;
        break;
      }
      default:
        return Error{std::string("unsupported format character '") + conv + "'"};
    }
  }
  if (next < items.size()) return Error{"not all arguments converted during string formatting"};
  return Value::string(std::move(out));
}

}  // namespace

Result<bool> less_than(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) {
    if (a.kind == Kind::kFloat || b.kind == Kind::kFloat) return a.as_double() < b.as_double();
    return as_int(a) < as_int(b);
  }
  if (a.kind == Kind::kString && b.kind == Kind::kString)
    return a.s < b.s;  // UTF-8 order = code point order
  if (a.kind == Kind::kList && b.kind == Kind::kList && a.is_tuple == b.is_tuple) {
    size_t n = std::min(a.list->size(), b.list->size());
    for (size_t k = 0; k < n; ++k) {
      if (values_equal((*a.list)[k], (*b.list)[k])) continue;
      return less_than((*a.list)[k], (*b.list)[k]);
    }
    return a.list->size() < b.list->size();
  }
  return Error{std::string("'<' not supported between instances of '") + kind_name(a) + "' and '" +
               kind_name(b) + "'"};
}

Result<bool> contains(const Value& container, const Value& item) {
  switch (container.kind) {
    case Kind::kUndefined:
      return false;  // Undefined iterates as empty
    case Kind::kString:
      if (item.kind != Kind::kString) {
        return Error{std::string("'in <string>' requires string as left operand, not ") +
                     kind_name(item)};
      }
      return container.s.find(item.s) != std::string::npos;
    case Kind::kList:
      for (const auto& e : *container.list) {
        if (values_equal(e, item)) return true;
      }
      return false;
    case Kind::kDict:
      return item.kind == Kind::kString && container.dict->find(item.s) != nullptr;
    default:
      return Error{std::string("argument of type '") + kind_name(container) + "' is not iterable"};
  }
}

Result<Value> binary_op(Interpreter& in, const std::string& op, const Value& a, const Value& b) {
  if (op == "~") {
    std::string s = to_str(a);
    std::string t = to_str(b);
    SMOL_TRY(in.check_size(s.size() + t.size()));
    return Value::string(s + t);
  }
  if (op == "in" || op == "not in") {
    auto r = contains(b, a);
    if (!r) return Error{r.error()};
    return Value::boolean(*r == (op == "in"));
  }
  if (op == "==") return Value::boolean(values_equal(a, b));
  if (op == "!=") return Value::boolean(!values_equal(a, b));
  SMOL_TRY(in.require_defined(a));
  SMOL_TRY(in.require_defined(b));
  if (op == "<" || op == ">" || op == "<=" || op == ">=") {
    bool swap = op == ">" || op == "<=";
    auto lt = swap ? less_than(b, a) : less_than(a, b);
    if (!lt) return Error{lt.error()};
    bool r = (op == "<" || op == ">") ? *lt : !*lt;
    return Value::boolean(r);
  }
  bool numeric = a.is_number() && b.is_number();
  bool floating = numeric && (a.kind == Kind::kFloat || b.kind == Kind::kFloat);
  if (op == "+") {
    if (a.kind == Kind::kString && b.kind == Kind::kString) {
      SMOL_TRY(in.check_size(a.s.size() + b.s.size()));
      return Value::string(a.s + b.s);
    }
    if (a.kind == Kind::kList && b.kind == Kind::kList && a.is_tuple == b.is_tuple) {
      if (a.list->size() + b.list->size() > in.options().limits.max_list_size) {
        return Error{"list concatenation too large"};
      }
      List out = *a.list;
      out.insert(out.end(), b.list->begin(), b.list->end());
      return Value::make_list(std::move(out), a.is_tuple);
    }
    if (!numeric) {
      if (a.kind == Kind::kString) {
        return Error{std::string("can only concatenate str (not \"") + kind_name(b) + "\") to str"};
      }
      return type_error("+", a, b);
    }
    if (floating) return Value::number(a.as_double() + b.as_double());
    int64_t r;
    if (__builtin_add_overflow(as_int(a), as_int(b), &r)) return Error{"integer overflow"};
    return Value::integer(r);
  }
  if (op == "*") {
    if ((a.kind == Kind::kString || a.kind == Kind::kList) && is_intlike(b)) {
      return repeat(in, a, as_int(b));
    }
    if ((b.kind == Kind::kString || b.kind == Kind::kList) && is_intlike(a)) {
      return repeat(in, b, as_int(a));
    }
    if (!numeric) return type_error("*", a, b);
    if (floating) return Value::number(a.as_double() * b.as_double());
    int64_t r;
    if (__builtin_mul_overflow(as_int(a), as_int(b), &r)) return Error{"integer overflow"};
    return Value::integer(r);
  }
  if (op == "%" && a.kind == Kind::kString) return percent_format(a.s, b);
  if (!numeric) return type_error(op, a, b);
  if (op == "-") {
    if (floating) return Value::number(a.as_double() - b.as_double());
    int64_t r;
    if (__builtin_sub_overflow(as_int(a), as_int(b), &r)) return Error{"integer overflow"};
    return Value::integer(r);
  }
  if (op == "/") {
    if (b.as_double() == 0) return Error{"division by zero"};
    return Value::number(a.as_double() / b.as_double());
  }
  if (op == "//" || op == "%") {
    if (b.as_double() == 0)
      return Error{op == "//" ? "integer division or modulo by zero" : "modulo by zero"};
    if (floating) {
      double x = a.as_double(), y = b.as_double();
      double m = std::fmod(x, y);
      if (m != 0 && ((m < 0) != (y < 0))) m += y;
      if (op == "%") return Value::number(m);
      return Value::number(std::floor((x - m) / y + 0.5));
    }
    if (as_int(a) == INT64_MIN && as_int(b) == -1) return Error{"integer overflow"};
    return Value::integer(op == "//" ? floor_div(as_int(a), as_int(b))
                                     : floor_mod(as_int(a), as_int(b)));
  }
  if (op == "**") {
    if (!floating && as_int(b) >= 0) {
      int64_t base = as_int(a), exponent = as_int(b), result = 1;
      if (base == 0) return Value::integer(exponent == 0 ? 1 : 0);
      if (base == 1) return Value::integer(1);
      if (base == -1) return Value::integer(exponent % 2 ? -1 : 1);
      for (int64_t e = exponent; e > 0; --e) {  // |base| >= 2 overflows within 63 steps
        if (__builtin_mul_overflow(result, base, &result)) return Error{"integer overflow"};
      }
      return Value::integer(result);
    }
    return Value::number(std::pow(a.as_double(), b.as_double()));
  }
  return Error{"unknown operator " + op};
}

}  // namespace smol::chat
