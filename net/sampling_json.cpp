// Validation of sampling fields shared by the session API and the OpenAI API.
#include "routes.h"

namespace smol::net {

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
  return "";
}

}  // namespace smol::net
