// A small command-line parser shared by the smolbot subcommands.
//
// Accepts `--key value`, `--key=value`, `-k value` (aliases), boolean `--flag`, and positional
// arguments. Unknown options and malformed numbers are usage errors with a one-line message.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "smol/result.h"

namespace smolbot {

class Args {
 public:
  // `value_options` take a value, `flags` do not; names include the dashes ("--model", "-n").
  // `aliases` maps a short spelling to its long one ("-n" -> "--n-predict").
  static smol::Result<Args> parse(int argc, char** argv, const std::set<std::string>& value_options,
                                  const std::set<std::string>& flags,
                                  const std::map<std::string, std::string>& aliases = {});

  bool has(const std::string& name) const;
  std::optional<std::string> get(const std::string& name) const;
  std::string get_or(const std::string& name, const std::string& fallback) const;
  smol::Result<int64_t> get_int(const std::string& name, int64_t fallback) const;
  smol::Result<double> get_double(const std::string& name, double fallback) const;
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::map<std::string, std::string> values_;
  std::set<std::string> flags_;
  std::vector<std::string> positional_;
};

// Parses "1,2,3" (spaces allowed) into ids; error names the bad element.
smol::Result<std::vector<int32_t>> parse_id_list(const std::string& csv);

}  // namespace smolbot
