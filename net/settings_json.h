// settings_json.h (private) — session settings and sampling fields to and from JSON, shared by
// the HTTP routes (strict: a bad field is an error) and the store (lenient: a bad stored field
// falls back to its default, so an old or hand-edited database still opens).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "smol/chat_service.h"

namespace smol::net {

// OpenAI's limits: each bias in [-100, 100]; we also cap how many tokens one request may bias.
constexpr double kMaxLogitBias = 100.0;
constexpr size_t kMaxLogitBiasEntries = 1024;

// Reads the sampling fields present in `j` into `out`; returns "" or what is wrong. Token ids in
// logit_bias are checked against the vocabulary when a generation starts (check_logit_bias).
std::string parse_sampling(const nlohmann::json& j, Sampling& out);
// "" when every logit_bias token id is below n_vocab, else the message naming the first that is
// not.
std::string check_logit_bias(const Sampling& s, int n_vocab);

nlohmann::json settings_to_json(const SessionSettings& s);
SessionSettings settings_from_json(const nlohmann::json& j);  // lenient, see above

}  // namespace smol::net
