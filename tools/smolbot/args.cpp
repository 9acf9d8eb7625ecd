#include "args.h"

#include <charconv>
#include <cstdlib>

namespace smolbot {

smol::Result<Args> Args::parse(int argc, char** argv, const std::set<std::string>& value_options,
                               const std::set<std::string>& flags,
                               const std::map<std::string, std::string>& aliases) {
  Args args;
  bool only_positional = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (only_positional || arg.size() < 2 || arg[0] != '-') {
      args.positional_.push_back(arg);
      continue;
    }
    if (arg == "--") {
      only_positional = true;
      continue;
    }
    std::optional<std::string> inline_value;
    if (auto eq = arg.find('='); eq != std::string::npos && arg.rfind("--", 0) == 0) {
      inline_value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    }
    if (auto alias = aliases.find(arg); alias != aliases.end()) arg = alias->second;
    if (flags.count(arg)) {
      if (inline_value) return smol::Error{"option " + arg + " takes no value"};
      args.flags_.insert(arg);
    } else if (value_options.count(arg)) {
      if (inline_value) {
        args.values_[arg] = *inline_value;
      } else if (i + 1 < argc) {
        args.values_[arg] = argv[++i];
      } else {
        return smol::Error{"option " + arg + " needs a value"};
      }
    } else {
      return smol::Error{"unknown option " + arg};
    }
  }
  return args;
}

bool Args::has(const std::string& name) const {
  return flags_.count(name) > 0 || values_.count(name) > 0;
}

std::optional<std::string> Args::get(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::string Args::get_or(const std::string& name, const std::string& fallback) const {
  return get(name).value_or(fallback);
}

smol::Result<int64_t> Args::get_int(const std::string& name, int64_t fallback) const {
  auto text = get(name);
  if (!text) return fallback;
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || end != text->data() + text->size()) {
    return smol::Error{"option " + name + " expects an integer, got '" + *text + "'"};
  }
  return value;
}

smol::Result<double> Args::get_double(const std::string& name, double fallback) const {
  auto text = get(name);
  if (!text) return fallback;
  char* end = nullptr;
  double value = std::strtod(text->c_str(), &end);
  if (text->empty() || end != text->c_str() + text->size()) {
    return smol::Error{"option " + name + " expects a number, got '" + *text + "'"};
  }
  return value;
}

smol::Result<std::vector<int32_t>> parse_id_list(const std::string& csv) {
  std::vector<int32_t> ids;
  size_t pos = 0;
  while (pos <= csv.size()) {
    size_t comma = csv.find(',', pos);
    if (comma == std::string::npos) comma = csv.size();
    std::string item = csv.substr(pos, comma - pos);
    size_t b = item.find_first_not_of(" \t"), e = item.find_last_not_of(" \t");
    item = b == std::string::npos ? "" : item.substr(b, e - b + 1);
    if (item.empty()) {
      if (comma == csv.size() && !ids.empty()) break;  // tolerate one trailing comma
      return smol::Error{"empty token id at character " + std::to_string(pos) + " of '" + csv +
                         "'"};
    }
    int32_t id = 0;
    auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), id);
    if (ec != std::errc() || end != item.data() + item.size() || id < 0) {
      return smol::Error{"bad token id '" + item + "'"};
    }
    ids.push_back(id);
    pos = comma + 1;
  }
  return ids;
}

}  // namespace smolbot
