// Jinja's filters and tests, Python's str/dict/list methods, and the globals chat templates call
// (range, namespace, dict, raise_exception, strftime_now).
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <set>

#include "interpreter.h"

namespace smol::chat {
namespace {

using Args = CallArgs;

// --- string helpers --------------------------------------------------------------------------

std::string ascii_upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}
std::string ascii_lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}
bool is_alpha(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; }

std::string capitalize(const std::string& s) {
  if (s.empty()) return s;
  return ascii_upper(s.substr(0, 1)) + ascii_lower(s.substr(1));
}

// Python str.title(): a letter after a non-letter starts a word.
std::string py_title(const std::string& s) {
  std::string out = s;
  bool prev_alpha = false;
  for (char& c : out) {
    bool alpha = is_alpha(c);
    if (alpha) c = static_cast<char>(prev_alpha ? std::tolower(c) : std::toupper(c));
    prev_alpha = alpha;
  }
  return out;
}

// Jinja's title filter: pieces split at runs of "-", whitespace, "(", "{", "[", "<"; each piece
// (separators included) gets its first character upper-cased and the rest lower-cased.
std::string jinja_title(const std::string& s) {
  auto is_sep = [](char c) {
    return c == '-' || c == '(' || c == '{' || c == '[' || c == '<' || c == ' ' || c == '\t' ||
           c == '\n' || c == '\r' || c == '\f' || c == '\v';
  };
  std::string out;
  size_t k = 0;
  while (k < s.size()) {
    size_t end = k;
    bool sep = is_sep(s[k]);
    while (end < s.size() && is_sep(s[end]) == sep) ++end;
    out += capitalize(s.substr(k, end - k));
    k = end;
  }
  return out;
}

enum class StripSide { kBoth, kLeft, kRight };

std::string strip(const std::string& s, const Value& chars, StripSide side) {
  std::vector<char32_t> set;
  bool custom = chars.kind == Kind::kString;
  if (custom) {
    size_t pos = 0;
    while (pos < chars.s.size()) {
      size_t len;
      set.push_back(decode_at(chars.s, pos, &len));
      pos += len;
    }
  }
  auto strippable = [&](char32_t cp) {
    return custom ? std::find(set.begin(), set.end(), cp) != set.end() : is_py_space(cp);
  };
  auto offsets = code_point_offsets(s);
  size_t first = 0, last = offsets.size() - 1;  // code point range [first, last)
  if (side != StripSide::kRight) {
    while (first < last) {
      size_t len;
      if (!strippable(decode_at(s, offsets[first], &len))) break;
      ++first;
    }
  }
  if (side != StripSide::kLeft) {
    while (last > first) {
      size_t len;
      if (!strippable(decode_at(s, offsets[last - 1], &len))) break;
      --last;
    }
  }
  return s.substr(offsets[first], offsets[last] - offsets[first]);
}

std::string replace_all(const std::string& s, const std::string& from, const std::string& to,
                        int64_t count) {
  std::string out;
  if (from.empty()) {  // Python inserts `to` between every character (and at both ends)
    auto offsets = code_point_offsets(s);
    int64_t done = 0;
    for (size_t k = 0; k + 1 < offsets.size(); ++k) {
      if (count < 0 || done < count) {
        out += to;
        ++done;
      }
      out.append(s, offsets[k], offsets[k + 1] - offsets[k]);
    }
    if (count < 0 || done < count) out += to;
    return out;
  }
  size_t pos = 0;
  int64_t done = 0;
  while (count < 0 || done < count) {
    size_t hit = s.find(from, pos);
    if (hit == std::string::npos) break;
    out.append(s, pos, hit - pos);
    out += to;
    pos = hit + from.size();
    ++done;
  }
  out.append(s, pos);
  return out;
}

List py_split(const std::string& s, const Value& sep, int64_t maxsplit) {
  List parts;
  if (sep.kind != Kind::kString) {  // runs of whitespace, no empty strings
    size_t pos = 0;
    auto skip_space = [&] {
      while (pos < s.size()) {
        size_t len;
        if (!is_py_space(decode_at(s, pos, &len))) break;
        pos += len;
      }
    };
    skip_space();
    while (pos < s.size()) {
      if (maxsplit >= 0 && static_cast<int64_t>(parts.size()) == maxsplit) {
        std::string rest = s.substr(pos);
        parts.push_back(Value::string(strip(rest, Value::none(), StripSide::kRight)));
        return parts;
      }
      size_t start = pos;
      while (pos < s.size()) {
        size_t len;
        if (is_py_space(decode_at(s, pos, &len))) break;
        pos += len;
      }
      parts.push_back(Value::string(s.substr(start, pos - start)));
      skip_space();
    }
    return parts;
  }
  size_t pos = 0;
  while (maxsplit < 0 || static_cast<int64_t>(parts.size()) < maxsplit) {
    size_t hit = s.find(sep.s, pos);
    if (hit == std::string::npos) break;
    parts.push_back(Value::string(s.substr(pos, hit - pos)));
    pos = hit + sep.s.size();
  }
  parts.push_back(Value::string(s.substr(pos)));
  return parts;
}

List split_lines(const std::string& s) {
  List lines;
  size_t start = 0;
  for (size_t k = 0; k < s.size(); ++k) {
    if (s[k] == '\n' || s[k] == '\r') {
      lines.push_back(Value::string(s.substr(start, k - start)));
      if (s[k] == '\r' && k + 1 < s.size() && s[k + 1] == '\n') ++k;
      start = k + 1;
    }
  }
  if (start < s.size()) lines.push_back(Value::string(s.substr(start)));
  return lines;
}

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&#34;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// --- argument helpers ------------------------------------------------------------------------

Result<std::string> want_string(const Value& v, const char* what) {
  if (v.kind != Kind::kString) {
    return Error{std::string(what) + " must be a string, not " + kind_name(v)};
  }
  return v.s;
}

Result<int64_t> want_int(const Value& v, const char* what, int64_t fallback) {
  if (v.is_undefined() || v.is_none()) return fallback;
  if (v.kind == Kind::kInt) return v.i;
  if (v.kind == Kind::kBool) return static_cast<int64_t>(v.b);
  return Error{std::string(what) + " must be an integer, not " + kind_name(v)};
}

Status no_extra(const Args& args, size_t max_positional, const std::string& fn) {
  if (args.positional.size() > max_positional) {
    return Error{fn + "() takes at most " + std::to_string(max_positional) + " arguments (" +
                 std::to_string(args.positional.size()) + " given)"};
  }
  if (!args.keyword.empty()) {
    return Error{fn + "() got an unexpected keyword argument '" + args.keyword.front().first + "'"};
  }
  return {};
}

// Dotted attribute path ("a.b", "0") as Jinja's make_attrgetter resolves it.
Result<Value> attr_path(Interpreter& in, const Value& item, const std::string& path) {
  Value cur = item;
  size_t pos = 0;
  while (true) {
    size_t dot = path.find('.', pos);
    std::string part = path.substr(pos, dot == std::string::npos ? std::string::npos : dot - pos);
    Value key = Value::string(part);
    if (!part.empty() && std::all_of(part.begin(), part.end(), ::isdigit)) {
      key = Value::integer(std::stoll(part));
    }
    auto next = in.get_item(cur, key);
    if (!next) return next;
    cur = std::move(*next);
    if (dot == std::string::npos) return cur;
    pos = dot + 1;
  }
}

Result<size_t> length_of(const Value& v) {
  switch (v.kind) {
    case Kind::kUndefined:
      return size_t{0};
    case Kind::kString:
      return code_point_count(v.s);
    case Kind::kList:
      return v.list->size();
    case Kind::kDict:
      return v.dict->items.size();
    default:
      return Error{std::string("object of type '") + kind_name(v) + "' has no len()"};
  }
}

Result<Value> to_int(const Value& v, int64_t fallback) {
  switch (v.kind) {
    case Kind::kInt:
      return v;
    case Kind::kBool:
      return Value::integer(v.b);
    case Kind::kFloat:
      if (!std::isfinite(v.f) || std::fabs(v.f) > 9.2e18) return Value::integer(fallback);
      return Value::integer(static_cast<int64_t>(v.f));
    case Kind::kString: {
      std::string t = strip(v.s, Value::none(), StripSide::kBoth);
      char* end = nullptr;
      errno = 0;
      long long i = std::strtoll(t.c_str(), &end, 10);
      if (!t.empty() && end && *end == '\0' && errno == 0) return Value::integer(i);
      double d = std::strtod(t.c_str(), &end);  // Jinja falls back to int(float(s))
      if (!t.empty() && end && *end == '\0' && std::isfinite(d) && std::fabs(d) < 9.2e18) {
        return Value::integer(static_cast<int64_t>(d));
      }
      return Value::integer(fallback);
    }
    default:
      return Value::integer(fallback);
  }
}

// Sort key comparison honouring case_sensitive=False (strings compared lower-cased).
Result<bool> key_less(const Value& a, const Value& b, bool case_sensitive) {
  if (!case_sensitive && a.kind == Kind::kString && b.kind == Kind::kString) {
    return ascii_lower(a.s) < ascii_lower(b.s);
  }
  return less_than(a, b);
}

Result<List> stable_sort(List items, std::vector<Value> keys, bool case_sensitive, bool reverse) {
  std::vector<size_t> order(items.size());
  for (size_t k = 0; k < order.size(); ++k) order[k] = k;
  std::string error;
  std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) {
    if (!error.empty()) return false;
    auto r = reverse ? key_less(keys[y], keys[x], case_sensitive)
                     : key_less(keys[x], keys[y], case_sensitive);
    if (!r) {
      error = r.error();
      return false;
    }
    return *r;
  });
  if (!error.empty()) return Error{error};
  List out;
  for (size_t k : order) out.push_back(items[k]);
  return out;
}

Result<std::vector<Value>> sort_keys_for(Interpreter& in, const List& items,
                                         const Value& attribute) {
  std::vector<Value> keys;
  for (const auto& item : items) {
    if (attribute.kind == Kind::kString) {
      auto k = attr_path(in, item, attribute.s);
      if (!k) return Error{k.error()};
      keys.push_back(std::move(*k));
    } else {
      keys.push_back(item);
    }
  }
  return keys;
}

// --- methods ---------------------------------------------------------------------------------

Value bind_method(const Value& self, const std::string& name,
                  std::function<Result<Value>(Interpreter&, const Value&, Args&)> f) {
  return Value::callable(
      name, [self, f = std::move(f)](Interpreter& in, Args& args) { return f(in, self, args); });
}

Value string_method(const Value& self, const std::string& name) {
  using F = std::function<Result<Value>(Interpreter&, const Value&, Args&)>;
  F f;
  if (name == "upper" || name == "lower" || name == "title" || name == "capitalize" ||
      name == "swapcase") {
    f = [name](Interpreter&, const Value& s, Args& a) -> Result<Value> {
      SMOL_TRY(no_extra(a, 0, name));
      if (name == "upper") return Value::string(ascii_upper(s.s));
      if (name == "lower") return Value::string(ascii_lower(s.s));
      if (name == "title") return Value::string(py_title(s.s));
      if (name == "capitalize") return Value::string(capitalize(s.s));
      std::string out = s.s;
      for (char& c : out) {
        c = static_cast<char>(std::isupper(static_cast<unsigned char>(c)) ? std::tolower(c)
                                                                          : std::toupper(c));
      }
      return Value::string(out);
    };
  } else if (name == "strip" || name == "lstrip" || name == "rstrip") {
    StripSide side = name == "strip"    ? StripSide::kBoth
                     : name == "lstrip" ? StripSide::kLeft
                                        : StripSide::kRight;
    f = [name, side](Interpreter&, const Value& s, Args& a) -> Result<Value> {
      Value chars = a.get(0, "chars");
      SMOL_TRY(no_extra(a, 1, name));
      if (!chars.is_undefined() && !chars.is_none() && chars.kind != Kind::kString) {
        return Error{name + " arg must be None or str"};
      }
      return Value::string(strip(s.s, chars, side));
    };
  } else if (name == "startswith" || name == "endswith") {
    f = [name](Interpreter&, const Value& s, Args& a) -> Result<Value> {
      Value affix = a.get(0, "prefix");
      SMOL_TRY(no_extra(a, 1, name));
      List options = affix.kind == Kind::kList && affix.is_tuple ? *affix.list : List{affix};
      for (const auto& o : options) {
        if (o.kind != Kind::kString) {
          return Error{name + " first arg must be str or a tuple of str, not " + kind_name(o)};
        }
        bool hit = name == "startswith"
                       ? s.s.compare(0, o.s.size(), o.s) == 0
                       : s.s.size() >= o.s.size() &&
                             s.s.compare(s.s.size() - o.s.size(), o.s.size(), o.s) == 0;
        if (hit) return Value::boolean(true);
      }
      return Value::boolean(false);
    };
  } else if (name == "split" || name == "rsplit") {
    f = [name](Interpreter&, const Value& s, Args& a) -> Result<Value> {
      Value sep = a.get(0, "sep");
      auto maxsplit = want_int(a.get(1, "maxsplit"), "maxsplit", -1);
      if (!maxsplit) return Error{maxsplit.error()};
      SMOL_TRY(no_extra(a, 2, name));
      if (sep.kind == Kind::kString && sep.s.empty()) return Error{"empty separator"};
      if (name == "rsplit" && *maxsplit >= 0) return Error{"rsplit with maxsplit is not supported"};
      return Value::make_list(py_split(s.s, sep, *maxsplit));
    };
  } else if (name == "splitlines") {
    f = [](Interpreter&, const Value& s, Args& a) -> Result<Value> {
      SMOL_TRY(no_extra(a, 0, "splitlines"));
      return Value::make_list(split_lines(s.s));
    };
  } else if (name == "replace") {
    f = [](Interpreter& in, const Value& s, Args& a) -> Result<Value> {
      auto from = want_string(a.get(0, "old"), "replace() old");
      if (!from) return Error{from.error()};
      auto to = want_string(a.get(1, "new"), "replace() new");
      if (!to) return Error{to.error()};
      auto count = want_int(a.get(2, "count"), "replace() count", -1);
      if (!count) return Error{count.error()};
      SMOL_TRY(no_extra(a, 3, "replace"));
      std::string out = replace_all(s.s, *from, *to, *count);
      SMOL_TRY(in.check_size(out.size()));
      return Value::string(std::move(out));
    };
  } else if (name == "find" || name == "count" || name == "index" || name == "rfind") {
    f = [name](Interpreter&, const Value& s, Args& a) -> Result<Value> {
      auto sub = want_string(a.get(0, "sub"), (name + "() argument").c_str());
      if (!sub) return Error{sub.error()};
      SMOL_TRY(no_extra(a, 1, name));
      if (name == "count") {
        if (sub->empty()) return Value::integer(static_cast<int64_t>(code_point_count(s.s)) + 1);
        int64_t n = 0;
        for (size_t pos = s.s.find(*sub); pos != std::string::npos;
             pos = s.s.find(*sub, pos + sub->size()))
          ++n;
        return Value::integer(n);
      }
      size_t hit = name == "rfind" ? s.s.rfind(*sub) : s.s.find(*sub);
      if (hit == std::string::npos) {
        if (name == "index") return Error{"substring not found"};
        return Value::integer(-1);
      }
      return Value::integer(static_cast<int64_t>(code_point_count(s.s.substr(0, hit))));
    };
  } else if (name == "join") {
    f = [](Interpreter& in, const Value& s, Args& a) -> Result<Value> {
      Value seq = a.get(0, "iterable");
      SMOL_TRY(no_extra(a, 1, "join"));
      SMOL_TRY(in.require_defined(seq));
      auto items = items_of(seq);
      if (!items) return Error{items.error()};
      std::string out;
      for (size_t k = 0; k < items->size(); ++k) {
        if ((*items)[k].kind != Kind::kString) {
          return Error{"sequence item " + std::to_string(k) + ": expected str instance, " +
                       kind_name((*items)[k]) + " found"};
        }
        if (k) out += s.s;
        out += (*items)[k].s;
        SMOL_TRY(in.check_size(out.size()));
      }
      return Value::string(std::move(out));
    };
  } else if (name == "removeprefix" || name == "removesuffix") {
    f = [name](Interpreter&, const Value& s, Args& a) -> Result<Value> {
      auto affix = want_string(a.get(0, "affix"), (name + "() argument").c_str());
      if (!affix) return Error{affix.error()};
      SMOL_TRY(no_extra(a, 1, name));
      if (name == "removeprefix" && s.s.compare(0, affix->size(), *affix) == 0) {
        return Value::string(s.s.substr(affix->size()));
      }
      if (name == "removesuffix" && !affix->empty() && s.s.size() >= affix->size() &&
          s.s.compare(s.s.size() - affix->size(), affix->size(), *affix) == 0) {
        return Value::string(s.s.substr(0, s.s.size() - affix->size()));
      }
      return s;
    };
  } else if (name == "isdigit" || name == "isalpha" || name == "isalnum" || name == "isspace" ||
             name == "islower" || name == "isupper") {
    f = [name](Interpreter&, const Value& s, Args& a) -> Result<Value> {
      SMOL_TRY(no_extra(a, 0, name));
      if (s.s.empty()) return Value::boolean(false);
      bool cased = false, ok = true;
      for (unsigned char c : s.s) {
        if (name == "isdigit") ok &= std::isdigit(c) != 0;
        if (name == "isalpha") ok &= std::isalpha(c) != 0;
        if (name == "isalnum") ok &= std::isalnum(c) != 0;
        if (name == "isspace") ok &= std::isspace(c) != 0;
        if (name == "islower") ok &= !std::isupper(c), cased |= std::islower(c) != 0;
        if (name == "isupper") ok &= !std::islower(c), cased |= std::isupper(c) != 0;
      }
      if (name == "islower" || name == "isupper") ok &= cased;
      return Value::boolean(ok);
    };
  } else if (name == "format") {
    f = [](Interpreter& in, const Value& s, Args& a) -> Result<Value> {
      // str.format with {}, {0}, {name}, {{ and }} (no format specs).
      std::string out;
      size_t auto_index = 0;
      for (size_t k = 0; k < s.s.size(); ++k) {
        char c = s.s[k];
        if (c == '}' && k + 1 < s.s.size() && s.s[k + 1] == '}') {
          out += '}';
          ++k;
          continue;
        }
        if (c != '{') {
          out += c;
          continue;
        }
        if (k + 1 < s.s.size() && s.s[k + 1] == '{') {
          out += '{';
          ++k;
          continue;
        }
        size_t close = s.s.find('}', k);
        if (close == std::string::npos) return Error{"Single '{' encountered in format string"};
        std::string field = s.s.substr(k + 1, close - k - 1);
        if (field.find_first_of(":!.[") != std::string::npos) {
          return Error{"format(): only plain {} / {n} / {name} fields are supported"};
        }
        Value v;
        if (field.empty() || std::all_of(field.begin(), field.end(), ::isdigit)) {
          size_t index = field.empty() ? auto_index++ : std::stoul(field);
          if (index >= a.positional.size())
            return Error{"format(): replacement index out of range"};
          v = a.positional[index];
        } else {
          bool found = false;
          for (const auto& [key, value] : a.keyword) {
            if (key == field) v = value, found = true;
          }
          if (!found) return Error{"format(): missing keyword '" + field + "'"};
        }
        out += to_str(v);
        SMOL_TRY(in.check_size(out.size()));
        k = close;
      }
      return Value::string(std::move(out));
    };
  } else {
    return Value::undefined();
  }
  return bind_method(self, name, std::move(f));
}

Value dict_method(const Value& self, const std::string& name) {
  if (name == "items" || name == "keys" || name == "values") {
    return bind_method(self, name, [name](Interpreter&, const Value& d, Args& a) -> Result<Value> {
      SMOL_TRY(no_extra(a, 0, name));
      List out;
      for (const auto& [k, v] : d.dict->items) {
        if (name == "items") {
          out.push_back(Value::make_list({Value::string(k), v}, true));
        } else {
          out.push_back(name == "keys" ? Value::string(k) : v);
        }
      }
      return Value::make_list(std::move(out));
    });
  }
  if (name == "get") {
    return bind_method(self, name, [](Interpreter&, const Value& d, Args& a) -> Result<Value> {
      Value key = a.get(0, "key");
      Value fallback = a.get(1, "default", Value::none());
      SMOL_TRY(no_extra(a, 2, "get"));
      if (key.kind != Kind::kString) return fallback;
      const Value* v = d.dict->find(key.s);
      return v ? *v : fallback;
    });
  }
  if (name == "copy") {
    return bind_method(self, name, [](Interpreter&, const Value& d, Args& a) -> Result<Value> {
      SMOL_TRY(no_extra(a, 0, "copy"));
      return Value::make_dict(*d.dict);
    });
  }
  if (name == "pop" || name == "update" || name == "setdefault" || name == "clear" ||
      name == "popitem") {
    return bind_method(self, name, [name](Interpreter&, const Value&, Args&) -> Result<Value> {
      return Error{"dict." + name + "() is not allowed: template values are immutable"};
    });
  }
  return Value::undefined();
}

Value list_method(const Value& self, const std::string& name) {
  if (name == "index" || name == "count") {
    return bind_method(self, name, [name](Interpreter&, const Value& l, Args& a) -> Result<Value> {
      Value x = a.get(0, "value");
      SMOL_TRY(no_extra(a, 1, name));
      int64_t n = 0;
      for (size_t k = 0; k < l.list->size(); ++k) {
        if (!values_equal((*l.list)[k], x)) continue;
        if (name == "index") return Value::integer(static_cast<int64_t>(k));
        ++n;
      }
      if (name == "index") return Error{to_repr(x) + " is not in list"};
      return Value::integer(n);
    });
  }
  if (!self.is_tuple &&
      (name == "append" || name == "extend" || name == "insert" || name == "pop" ||
       name == "remove" || name == "sort" || name == "reverse" || name == "clear")) {
    return bind_method(self, name, [name](Interpreter&, const Value&, Args&) -> Result<Value> {
      return Error{"list." + name + "() is not allowed: template values are immutable"};
    });
  }
  return Value::undefined();
}

// --- globals ---------------------------------------------------------------------------------

Result<Value> fn_range(Interpreter& in, Args& a) {
  if (!a.keyword.empty()) return Error{"range() takes no keyword arguments"};
  std::vector<int64_t> n;
  for (const auto& v : a.positional) {
    auto i = want_int(v, "range() argument", 0);
    if (!i) return Error{i.error()};
    n.push_back(*i);
  }
  if (n.empty() || n.size() > 3) return Error{"range() takes 1 to 3 arguments"};
  int64_t start = n.size() > 1 ? n[0] : 0, stop = n.size() > 1 ? n[1] : n[0];
  int64_t step = n.size() > 2 ? n[2] : 1;
  if (step == 0) return Error{"range() arg 3 must not be zero"};
  List out;
  for (int64_t k = start; step > 0 ? k < stop : k > stop; k += step) {
    if (out.size() >= in.options().limits.max_list_size) {
      return Error{"range() longer than " + std::to_string(in.options().limits.max_list_size)};
    }
    out.push_back(Value::integer(k));
  }
  return Value::make_list(std::move(out));
}

Result<Value> fn_namespace(Interpreter&, Args& a) {
  Dict d;
  for (const auto& v : a.positional) {
    if (v.kind != Kind::kDict) return Error{"namespace() positional arguments must be mappings"};
    for (const auto& [k, e] : v.dict->items) d.set(k, e);
  }
  for (const auto& [k, v] : a.keyword) d.set(k, v);
  Value ns = Value::make_dict(std::move(d));
  ns.is_namespace = true;
  return ns;
}

Result<Value> fn_dict(Interpreter&, Args& a) {
  Dict d;
  for (const auto& v : a.positional) {
    if (v.kind != Kind::kDict) return Error{"dict() positional argument must be a mapping"};
    for (const auto& [k, e] : v.dict->items) d.set(k, e);
  }
  for (const auto& [k, v] : a.keyword) d.set(k, v);
  return Value::make_dict(std::move(d));
}

Result<Value> fn_raise_exception(Interpreter&, Args& a) {
  return Error{"raise_exception: " +
               (a.positional.empty() ? std::string() : to_str(a.positional[0]))};
}

Result<Value> fn_strftime_now(Interpreter& in, Args& a) {
  auto fmt = want_string(a.get(0, "format"), "strftime_now() format");
  if (!fmt) return Error{fmt.error()};
  SMOL_TRY(no_extra(a, 1, "strftime_now"));
  std::tm tm{};
  if (in.options().now) {
    tm = in.options().now();
  } else {
    std::time_t t = std::time(nullptr);
    localtime_r(&t, &tm);
  }
  if (fmt->empty()) return Value::string("");
  // strftime gives no way to tell "too small" from "empty result": grow up to a sane bound.
  for (size_t size = 128; size <= (1u << 16); size *= 4) {
    std::string buf(size, '\0');
    size_t n = std::strftime(buf.data(), buf.size(), fmt->c_str(), &tm);
    if (n > 0) return Value::string(buf.substr(0, n));
  }
  return Value::string("");
}

// --- filters ---------------------------------------------------------------------------------

const std::set<std::string, std::less<>>& filter_names() {
  static const std::set<std::string, std::less<>> names = {
      "abs",   "attr",   "capitalize", "count",      "d",           "default",  "dictsort",
      "e",     "escape", "first",      "float",      "forceescape", "format",   "indent",
      "int",   "items",  "join",       "last",       "length",      "list",     "lower",
      "map",   "max",    "min",        "reject",     "rejectattr",  "replace",  "reverse",
      "round", "safe",   "select",     "selectattr", "sort",        "string",   "sum",
      "title", "tojson", "trim",       "unique",     "upper",       "wordcount"};
  return names;
}

const std::set<std::string, std::less<>>& test_names() {
  static const std::set<std::string, std::less<>> names = {
      "boolean", "callable",  "defined", "divisibleby", "eq",       "equalto",     "escaped",
      "even",    "false",     "float",   "ge",          "gt",       "greaterthan", "in",
      "integer", "iterable",  "le",      "lower",       "lessthan", "lt",          "mapping",
      "ne",      "none",      "number",  "odd",         "sameas",   "sequence",    "string",
      "true",    "undefined", "upper",   "==",          "!=",       "<",           "<=",
      ">",       ">="};
  return names;
}

Result<Value> filter_map_like(Interpreter& in, const std::string& name, const Value& value,
                              Args& a) {
  auto items = items_of(value);
  if (!items) return Error{items.error()};
  List out;
  if (name == "map") {
    Value attribute = a.get(1000, "attribute");
    if (attribute.kind == Kind::kString) {
      Value fallback = a.get(1000, "default");
      for (const auto& item : *items) {
        auto v = attr_path(in, item, attribute.s);
        if (!v) return Error{v.error()};
        out.push_back(v->is_undefined() && !fallback.is_undefined() ? fallback : *v);
      }
      return Value::make_list(std::move(out));
    }
    if (a.positional.empty()) return Error{"map() needs a filter name or attribute="};
    auto filter = want_string(a.positional[0], "map() filter name");
    if (!filter) return Error{filter.error()};
    for (const auto& item : *items) {
      Args sub;
      sub.positional.assign(a.positional.begin() + 1, a.positional.end());
      sub.keyword = a.keyword;
      auto v = in.apply_filter(*filter, item, sub);
      if (!v) return v;
      out.push_back(std::move(*v));
    }
    return Value::make_list(std::move(out));
  }
  bool by_attr = name == "selectattr" || name == "rejectattr";
  bool keep_if = name == "select" || name == "selectattr";
  size_t first_arg = by_attr ? 1 : 0;
  std::string attribute;
  if (by_attr) {
    if (a.positional.empty()) return Error{name + "() needs an attribute name"};
    auto s = want_string(a.positional[0], "attribute name");
    if (!s) return Error{s.error()};
    attribute = *s;
  }
  std::string test;
  if (a.positional.size() > first_arg) {
    auto s = want_string(a.positional[first_arg], "test name");
    if (!s) return Error{s.error()};
    test = *s;
  }
  for (const auto& item : *items) {
    SMOL_TRY(in.count_step());
    Value subject = item;
    if (by_attr) {
      auto v = attr_path(in, item, attribute);
      if (!v) return Error{v.error()};
      subject = std::move(*v);
    }
    bool pass;
    if (test.empty()) {
      pass = subject.truthy();
    } else {
      Args sub;
      sub.positional.assign(a.positional.begin() + first_arg + 1, a.positional.end());
      auto r = in.apply_test(test, subject, sub);
      if (!r) return Error{r.error()};
      pass = *r;
    }
    if (pass == keep_if) out.push_back(item);
  }
  return Value::make_list(std::move(out));
}

}  // namespace

Result<List> items_of(const Value& v) {
  switch (v.kind) {
    case Kind::kUndefined:
      return List{};
    case Kind::kList:
      return *v.list;
    case Kind::kDict: {
      List keys;
      for (const auto& [k, e] : v.dict->items) keys.push_back(Value::string(k));
      return keys;
    }
    case Kind::kString: {
      List chars;
      auto offsets = code_point_offsets(v.s);
      for (size_t k = 0; k + 1 < offsets.size(); ++k) {
        chars.push_back(Value::string(v.s.substr(offsets[k], offsets[k + 1] - offsets[k])));
      }
      return chars;
    }
    default:
      return Error{std::string("'") + kind_name(v) + "' object is not iterable"};
  }
}

void install_globals(std::unordered_map<std::string, Value>& frame) {
  frame["range"] = Value::callable("range", fn_range);
  frame["namespace"] = Value::callable("namespace", fn_namespace);
  frame["dict"] = Value::callable("dict", fn_dict);
  frame["raise_exception"] = Value::callable("raise_exception", fn_raise_exception);
  frame["strftime_now"] = Value::callable("strftime_now", fn_strftime_now);
}

bool is_known_filter(std::string_view name) { return filter_names().count(name) > 0; }
bool is_known_test(std::string_view name) { return test_names().count(name) > 0; }

Value builtin_method(const Value& obj, const std::string& name) {
  switch (obj.kind) {
    case Kind::kString:
      return string_method(obj, name);
    case Kind::kDict:
      return dict_method(obj, name);
    case Kind::kList:
      return list_method(obj, name);
    default:
      return Value::undefined();
  }
}

Result<Value> builtin_filter(Interpreter& in, const std::string& name, Value value, Args& a) {
  if (name == "safe" || name == "string") {
    SMOL_TRY(no_extra(a, 0, name));
    return Value::string(to_str(value));
  }
  if (name == "length" || name == "count") {
    SMOL_TRY(no_extra(a, 0, name));
    auto n = length_of(value);
    if (!n) return Error{n.error()};
    return Value::integer(static_cast<int64_t>(*n));
  }
  if (name == "default" || name == "d") {
    Value fallback = a.get(0, "default_value", Value::string(""));
    Value boolean = a.get(1, "boolean", Value::boolean(false));
    SMOL_TRY(no_extra(a, 2, name));
    if (value.is_undefined() || (boolean.truthy() && !value.truthy())) return fallback;
    return value;
  }
  if (name == "tojson") {
    // transformers' signature: tojson(x, ensure_ascii=False, indent=None, separators=None,
    // sort_keys=False), i.e. json.dumps without Jinja's HTML escaping and key sorting.
    JsonDumpOptions o;
    o.ensure_ascii = a.get(0, "ensure_ascii", Value::boolean(false)).truthy();
    Value indent = a.get(1, "indent", Value::none());
    Value separators = a.get(2, "separators", Value::none());
    o.sort_keys = a.get(3, "sort_keys", Value::boolean(false)).truthy();
    SMOL_TRY(no_extra(a, 4, name));
    if (indent.kind == Kind::kInt) {
      o.indent = static_cast<int>(std::clamp<int64_t>(indent.i, 0, 64));
    } else if (!indent.is_none()) {
      return Error{"tojson indent must be an integer"};
    }
    if (separators.kind == Kind::kList && separators.list->size() == 2 &&
        (*separators.list)[0].is_string() && (*separators.list)[1].is_string()) {
      o.item_separator = (*separators.list)[0].s;
      o.key_separator = (*separators.list)[1].s;
    } else if (!separators.is_none()) {
      return Error{"tojson separators must be a pair of strings"};
    }
    auto text = to_json(value, o);
    if (!text) return Error{text.error()};
    SMOL_TRY(in.check_size(text->size()));
    return Value::string(std::move(*text));
  }
  if (name == "trim") {
    Value chars = a.get(0, "chars");
    SMOL_TRY(no_extra(a, 1, name));
    return Value::string(strip(to_str(value), chars, StripSide::kBoth));
  }
  if (name == "upper" || name == "lower" || name == "capitalize" || name == "title") {
    SMOL_TRY(no_extra(a, 0, name));
    std::string s = to_str(value);
    if (name == "upper") return Value::string(ascii_upper(s));
    if (name == "lower") return Value::string(ascii_lower(s));
    if (name == "capitalize") return Value::string(capitalize(s));
    return Value::string(jinja_title(s));
  }
  if (name == "escape" || name == "e" || name == "forceescape") {
    SMOL_TRY(no_extra(a, 0, name));
    return Value::string(html_escape(to_str(value)));
  }
  if (name == "replace") {
    auto from = want_string(a.get(0, "old"), "replace old");
    if (!from) return Error{from.error()};
    auto to = want_string(a.get(1, "new"), "replace new");
    if (!to) return Error{to.error()};
    auto count = want_int(a.get(2, "count"), "replace count", -1);
    if (!count) return Error{count.error()};
    SMOL_TRY(no_extra(a, 3, name));
    std::string out = replace_all(to_str(value), *from, *to, *count);
    SMOL_TRY(in.check_size(out.size()));
    return Value::string(std::move(out));
  }
  if (name == "join") {
    Value sep = a.get(0, "d", Value::string(""));
    Value attribute = a.get(1, "attribute");
    SMOL_TRY(no_extra(a, 2, name));
    auto items = items_of(value);
    if (!items) return Error{items.error()};
    std::string out;
    std::string separator = to_str(sep);
    for (size_t k = 0; k < items->size(); ++k) {
      Value item = (*items)[k];
      if (attribute.kind == Kind::kString) {
        auto v = attr_path(in, item, attribute.s);
        if (!v) return Error{v.error()};
        item = std::move(*v);
      }
      if (k) out += separator;
      out += to_str(item);
      SMOL_TRY(in.check_size(out.size()));
    }
    return Value::string(std::move(out));
  }
  if (name == "list") {
    SMOL_TRY(no_extra(a, 0, name));
    auto items = items_of(value);
    if (!items) return Error{items.error()};
    return Value::make_list(std::move(*items));
  }
  if (name == "items") {
    SMOL_TRY(no_extra(a, 0, name));
    if (value.is_undefined()) return Value::make_list({});
    if (value.kind != Kind::kDict) return Error{"Can only get item pairs from a mapping."};
    List out;
    for (const auto& [k, v] : value.dict->items) {
      out.push_back(Value::make_list({Value::string(k), v}, true));
    }
    return Value::make_list(std::move(out));
  }
  if (name == "dictsort") {
    Value case_sensitive = a.get(0, "case_sensitive", Value::boolean(false));
    Value by = a.get(1, "by", Value::string("key"));
    Value reverse = a.get(2, "reverse", Value::boolean(false));
    SMOL_TRY(no_extra(a, 3, name));
    if (value.kind != Kind::kDict) return Error{"dictsort needs a mapping"};
    List pairs;
    std::vector<Value> keys;
    for (const auto& [k, v] : value.dict->items) {
      pairs.push_back(Value::make_list({Value::string(k), v}, true));
      keys.push_back(by.kind == Kind::kString && by.s == "value" ? v : Value::string(k));
    }
    auto sorted =
        stable_sort(std::move(pairs), std::move(keys), case_sensitive.truthy(), reverse.truthy());
    if (!sorted) return Error{sorted.error()};
    return Value::make_list(std::move(*sorted));
  }
  if (name == "first" || name == "last") {
    SMOL_TRY(no_extra(a, 0, name));
    SMOL_TRY(in.require_defined(value));
    if (name == "last" && value.kind == Kind::kDict)
      return Error{"'dict' object is not reversible"};
    auto items = items_of(value);
    if (!items) return Error{items.error()};
    if (items->empty())
      return Value::undefined(std::string("No ") + name + " item, sequence was empty.");
    return name == "first" ? items->front() : items->back();
  }
  if (name == "reverse") {
    SMOL_TRY(no_extra(a, 0, name));
    if (value.kind == Kind::kString) {
      auto offsets = code_point_offsets(value.s);
      std::string out;
      for (size_t k = offsets.size() - 1; k > 0; --k) {
        out.append(value.s, offsets[k - 1], offsets[k] - offsets[k - 1]);
      }
      return Value::string(std::move(out));
    }
    auto items = items_of(value);
    if (!items) return Error{items.error()};
    std::reverse(items->begin(), items->end());
    return Value::make_list(std::move(*items));
  }
  if (name == "sort" || name == "unique" || name == "min" || name == "max") {
    Value reverse =
        name == "sort" ? a.get(0, "reverse", Value::boolean(false)) : Value::boolean(false);
    size_t base = name == "sort" ? 1 : 0;
    Value case_sensitive = a.get(base, "case_sensitive", Value::boolean(false));
    Value attribute = a.get(base + 1, "attribute");
    SMOL_TRY(no_extra(a, base + 2, name));
    auto items = items_of(value);
    if (!items) return Error{items.error()};
    auto keys = sort_keys_for(in, *items, attribute);
    if (!keys) return Error{keys.error()};
    if (name == "unique") {
      List out;
      std::vector<Value> seen;
      for (size_t k = 0; k < items->size(); ++k) {
        Value key = (*keys)[k];
        if (!case_sensitive.truthy() && key.is_string()) key.s = ascii_lower(key.s);
        bool dup = false;
        for (const auto& s : seen) dup |= values_equal(s, key);
        if (dup) continue;
        seen.push_back(key);
        out.push_back((*items)[k]);
      }
      return Value::make_list(std::move(out));
    }
    auto sorted = stable_sort(*items, *keys, case_sensitive.truthy(), reverse.truthy());
    if (!sorted) return Error{sorted.error()};
    if (name == "sort") return Value::make_list(std::move(*sorted));
    if (sorted->empty()) return Value::undefined("No aggregated item, sequence was empty.");
    return name == "min" ? sorted->front() : sorted->back();
  }
  if (name == "sum") {
    Value attribute = a.get(0, "attribute");
    Value total = a.get(1, "start", Value::integer(0));
    SMOL_TRY(no_extra(a, 2, name));
    auto items = items_of(value);
    if (!items) return Error{items.error()};
    for (const auto& item : *items) {
      Value v = item;
      if (attribute.kind == Kind::kString) {
        auto r = attr_path(in, item, attribute.s);
        if (!r) return Error{r.error()};
        v = std::move(*r);
      }
      auto r = binary_op(in, "+", total, v);
      if (!r) return r;
      total = std::move(*r);
    }
    return total;
  }
  if (name == "int") {
    auto fallback = want_int(a.get(0, "default"), "int default", 0);
    if (!fallback) return Error{fallback.error()};
    SMOL_TRY(no_extra(a, 1, name));
    return to_int(value, *fallback);
  }
  if (name == "float") {
    Value fallback = a.get(0, "default", Value::number(0.0));
    SMOL_TRY(no_extra(a, 1, name));
    if (value.is_number()) return Value::number(value.as_double());
    if (value.kind == Kind::kString) {
      std::string t = strip(value.s, Value::none(), StripSide::kBoth);
      char* end = nullptr;
      double d = std::strtod(t.c_str(), &end);
      if (!t.empty() && end && *end == '\0') return Value::number(d);
    }
    return fallback;
  }
  if (name == "abs") {
    SMOL_TRY(no_extra(a, 0, name));
    if (value.kind == Kind::kFloat) return Value::number(std::fabs(value.f));
    if (value.kind == Kind::kInt) {
      if (value.i == INT64_MIN) return Error{"integer overflow"};
      return Value::integer(value.i < 0 ? -value.i : value.i);
    }
    if (value.kind == Kind::kBool) return Value::integer(value.b);
    return Error{std::string("bad operand type for abs(): '") + kind_name(value) + "'"};
  }
  if (name == "round") {
    auto precision = want_int(a.get(0, "precision"), "round precision", 0);
    if (!precision) return Error{precision.error()};
    Value method = a.get(1, "method", Value::string("common"));
    SMOL_TRY(no_extra(a, 2, name));
    if (!value.is_number()) return Error{"round needs a number"};
    double scale = std::pow(10.0, static_cast<double>(std::clamp<int64_t>(*precision, -300, 300)));
    double x = value.as_double() * scale;
    std::string m = to_str(method);
    // Python's round() rounds half to even.
    double r = m == "ceil" ? std::ceil(x) : m == "floor" ? std::floor(x) : std::nearbyint(x);
    if (m != "common" && m != "ceil" && m != "floor")
      return Error{"round method must be common, ceil or floor"};
    return Value::number(r / scale);
  }
  if (name == "indent") {
    Value width = a.get(0, "width", Value::integer(4));
    Value first = a.get(1, "first", Value::boolean(false));
    Value blank = a.get(2, "blank", Value::boolean(false));
    SMOL_TRY(no_extra(a, 3, name));
    std::string pad =
        width.kind == Kind::kString
            ? width.s
            : std::string(static_cast<size_t>(std::clamp<int64_t>(width.i, 0, 256)), ' ');
    List lines = split_lines(to_str(value) + "\n");
    std::string out;
    for (size_t k = 0; k < lines.size(); ++k) {
      const std::string& line = lines[k].s;
      if (k) out += "\n";
      if (k > 0 && (blank.truthy() || !line.empty())) out += pad;
      out += line;
      SMOL_TRY(in.check_size(out.size()));
    }
    if (first.truthy()) out = pad + out;
    return Value::string(std::move(out));
  }
  if (name == "format") {
    if (value.kind != Kind::kString) return Error{"format filter needs a format string"};
    Value args = Value::make_list(a.positional, true);
    if (!a.keyword.empty()) return Error{"format filter: keyword arguments are not supported"};
    return binary_op(in, "%", value, args);
  }
  if (name == "attr") {
    auto attr = want_string(a.get(0, "name"), "attr name");
    if (!attr) return Error{attr.error()};
    SMOL_TRY(no_extra(a, 1, name));
    // Python getattr() only: a dict's keys are not attributes (its methods are).
    if (value.kind == Kind::kDict && !value.is_namespace) {
      Value method = builtin_method(value, *attr);
      if (!method.is_undefined()) return method;
      return Value::undefined("'dict object' has no attribute '" + *attr + "'");
    }
    return in.get_attr(value, *attr);
  }
  if (name == "wordcount") {
    SMOL_TRY(no_extra(a, 0, name));
    return Value::integer(static_cast<int64_t>(py_split(to_str(value), Value::none(), -1).size()));
  }
  if (name == "map" || name == "select" || name == "reject" || name == "selectattr" ||
      name == "rejectattr") {
    return filter_map_like(in, name, value, a);
  }
  return Error{"unknown filter '" + name + "'"};
}

Result<bool> builtin_test(Interpreter& in, const std::string& name, const Value& v, Args& a) {
  auto other = [&]() { return a.get(0, "other"); };
  if (name == "defined") return !v.is_undefined();
  if (name == "undefined") return v.is_undefined();
  if (name == "none") return v.is_none();
  if (name == "string") return v.is_string();
  if (name == "number") return v.is_number();  // bool is a Number in Python
  if (name == "integer") return v.kind == Kind::kInt;
  if (name == "float") return v.kind == Kind::kFloat;
  if (name == "boolean") return v.kind == Kind::kBool;
  if (name == "true") return v.kind == Kind::kBool && v.b;
  if (name == "false") return v.kind == Kind::kBool && !v.b;
  if (name == "mapping") return v.kind == Kind::kDict && !v.is_namespace;
  if (name == "iterable") {
    return v.kind == Kind::kList || v.kind == Kind::kDict || v.kind == Kind::kString ||
           v.kind == Kind::kUndefined;
  }
  if (name == "sequence") {
    return v.kind == Kind::kList || (v.kind == Kind::kDict && !v.is_namespace) ||
           v.kind == Kind::kString;
  }
  if (name == "callable") return v.kind == Kind::kCallable;
  if (name == "escaped") return false;
  if (name == "lower" || name == "upper") {
    std::string s = to_str(v);
    bool cased = false;
    for (unsigned char c : s) {
      if (name == "lower" ? std::isupper(c) : std::islower(c)) return false;
      cased |= std::isalpha(c) != 0;
    }
    return cased;
  }
  if (name == "odd" || name == "even" || name == "divisibleby") {
    if (v.kind != Kind::kInt && v.kind != Kind::kBool)
      return Error{name + " test needs an integer"};
    int64_t x = v.kind == Kind::kBool ? v.b : v.i;
    if (name == "odd") return x % 2 != 0;
    if (name == "even") return x % 2 == 0;
    auto d = want_int(a.get(0, "num"), "divisibleby argument", 0);
    if (!d) return Error{d.error()};
    if (*d == 0) return Error{"integer division or modulo by zero"};
    return x % *d == 0;
  }
  if (name == "sameas") {
    Value o = other();
    if (v.kind != o.kind) return false;
    if (v.kind == Kind::kNone || v.kind == Kind::kUndefined) return true;
    if (v.kind == Kind::kBool) return v.b == o.b;
    if (v.kind == Kind::kList) return v.list == o.list;
    if (v.kind == Kind::kDict) return v.dict == o.dict;
    return values_equal(v, o);
  }
  if (name == "in") {
    auto r = contains(other(), v);
    if (!r) return Error{r.error()};
    return *r;
  }
  std::string op = name == "eq" || name == "equalto" || name == "=="      ? "=="
                   : name == "ne" || name == "!="                         ? "!="
                   : name == "lt" || name == "lessthan" || name == "<"    ? "<"
                   : name == "le" || name == "<="                         ? "<="
                   : name == "gt" || name == "greaterthan" || name == ">" ? ">"
                   : name == "ge" || name == ">="                         ? ">="
                                                                          : "";
  if (!op.empty()) {
    auto r = binary_op(in, op, v, other());
    if (!r) return Error{r.error()};
    return r->truthy();
  }
  return Error{"unknown test '" + name + "'"};
}

}  // namespace smol::chat
