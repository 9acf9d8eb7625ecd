// Session settings and sampling fields to and from JSON (settings_json.h).
#include "settings_json.h"

#include <charconv>
#include <cmath>

namespace smol::net {

using nlohmann::json;

namespace {

// Reads j[key] as a number within [lo, hi] into out; returns "" or the problem.
template <typename T>
std::string number_field(const json& j, const char* key, double lo, double hi, T& out) {
  if (!j.contains(key) || j[key].is_null()) return "";
  const json& v = j[key];
  if (!v.is_number()) return std::string(key) + " must be a number";
  if (std::is_integral_v<T> && !v.is_number_integer()) {
    return std::string(key) + " must be an integer";
  }
  double d = v.get<double>();
  if (!(d >= lo && d <= hi)) {
    return std::string(key) + " must be between " + std::to_string(lo) + " and " +
           std::to_string(hi);
  }
  out = v.get<T>();
  return "";
}

// A decimal token id as OpenAI writes logit_bias keys: digits only, no sign, fits in int32.
bool parse_token_id(const std::string& key, int32_t& id) {
  if (key.empty() || key.size() > 10) return false;
  const char* end = key.data() + key.size();
  auto [ptr, ec] = std::from_chars(key.data(), end, id);
  return ec == std::errc() && ptr == end && key[0] != '-' && key[0] != '+';
}

// logit_bias: {"<token id>": bias, ...}; replaces any previous map (null clears it).
std::string logit_bias_field(const json& j, Sampling& s) {
  if (!j.contains("logit_bias")) return "";
  const json& v = j["logit_bias"];
  if (v.is_null()) {
    s.logit_bias.clear();
    return "";
  }
  if (!v.is_object()) return "logit_bias must be an object of token id -> bias";
  if (v.size() > kMaxLogitBiasEntries) {
    return "logit_bias may name at most " + std::to_string(kMaxLogitBiasEntries) + " tokens";
  }
  std::vector<std::pair<int32_t, float>> out;
  for (const auto& [key, bias] : v.items()) {
    int32_t id = 0;
    if (!parse_token_id(key, id)) return "logit_bias keys must be token ids, not \"" + key + "\"";
    if (!bias.is_number() || !(std::fabs(bias.get<double>()) <= kMaxLogitBias)) {
      return "logit_bias values must be numbers between -100 and 100";
    }
    out.emplace_back(id, bias.get<float>());
  }
  s.logit_bias = std::move(out);
  return "";
}

json sampling_to_json(const Sampling& p) {
  json bias = json::object();
  for (const auto& [id, b] : p.logit_bias) bias[std::to_string(id)] = b;
  return {{"temperature", p.temperature},
          {"top_p", p.top_p},
          {"top_k", p.top_k},
          {"min_p", p.min_p},
          {"repeat_penalty", p.repeat_penalty},
          {"presence_penalty", p.presence_penalty},
          {"frequency_penalty", p.frequency_penalty},
          {"seed", p.seed},
          {"logit_bias", std::move(bias)},
          {"ignore_eos", p.ignore_eos}};
}

}  // namespace

std::string parse_sampling(const json& j, Sampling& s) {
  std::string err;
  if (!(err = number_field(j, "temperature", 0.0, 10.0, s.temperature)).empty()) return err;
  if (!(err = number_field(j, "top_p", 0.0, 1.0, s.top_p)).empty()) return err;
  if (!(err = number_field(j, "top_k", 0.0, 1e6, s.top_k)).empty()) return err;
  if (!(err = number_field(j, "min_p", 0.0, 1.0, s.min_p)).empty()) return err;
  if (!(err = number_field(j, "repeat_penalty", 0.0, 10.0, s.repeat_penalty)).empty()) return err;
  if (!(err = number_field(j, "presence_penalty", -2.0, 2.0, s.presence_penalty)).empty()) {
    return err;
  }
  if (!(err = number_field(j, "frequency_penalty", -2.0, 2.0, s.frequency_penalty)).empty()) {
    return err;
  }
  if (!(err = number_field(j, "seed", 0.0, 1.8e19, s.seed)).empty()) return err;
  if (!(err = logit_bias_field(j, s)).empty()) return err;
  if (j.contains("ignore_eos") && !j["ignore_eos"].is_null()) {
    if (!j["ignore_eos"].is_boolean()) return "ignore_eos must be true or false";
    s.ignore_eos = j["ignore_eos"].get<bool>();
  }
  return "";
}

std::string check_logit_bias(const Sampling& s, int n_vocab) {
  for (const auto& [id, bias] : s.logit_bias) {
    if (id >= n_vocab) {
      return "logit_bias names token " + std::to_string(id) + ", outside the vocabulary (" +
             std::to_string(n_vocab) + " tokens)";
    }
  }
  return "";
}

json settings_to_json(const SessionSettings& s) {
  return {{"system_prompt", s.system_prompt},
          {"thinking", s.thinking},
          {"max_tokens", s.max_tokens},
          {"sampling", sampling_to_json(s.sampling)}};
}

SessionSettings settings_from_json(const json& j) {
  SessionSettings s;
  if (!j.is_object()) return s;
  // value() throws on a stored field of the wrong type; a lenient read keeps the default then.
  auto get = [](const json& o, const char* key, auto& out) {
    try {
      out = o.value(key, out);
    } catch (const json::exception&) {
    }
  };
  get(j, "system_prompt", s.system_prompt);
  get(j, "thinking", s.thinking);
  get(j, "max_tokens", s.max_tokens);
  if (j.contains("sampling") && j["sampling"].is_object()) {
    const json& p = j["sampling"];
    Sampling& o = s.sampling;
    get(p, "temperature", o.temperature);
    get(p, "top_p", o.top_p);
    get(p, "top_k", o.top_k);
    get(p, "min_p", o.min_p);
    get(p, "repeat_penalty", o.repeat_penalty);
    get(p, "presence_penalty", o.presence_penalty);
    get(p, "frequency_penalty", o.frequency_penalty);
    get(p, "seed", o.seed);
    get(p, "ignore_eos", o.ignore_eos);
    Sampling biased;
    if (p.contains("logit_bias") && logit_bias_field(p, biased).empty()) {
      o.logit_bias = std::move(biased.logit_bias);
    }
  }
  return s;
}

}  // namespace smol::net
