// Helpers shared by the engine commands (generate, logits, bench): model loading with the
// one-line error contract, and JSON output pieces.
#pragma once

#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "smol/chat_template.h"
#include "smol/engine.h"

namespace smolbot {

// Loads a model or prints ONE line "smolbot <cmd>: <error>" to stderr and returns nullptr.
inline std::unique_ptr<smol::engine::Model> load_model_or_report(
    const char* command, const std::string& path, const smol::engine::LoadOptions& options = {}) {
  auto model = smol::engine::Model::load(path, options);
  if (!model.ok()) {
    std::fprintf(stderr, "smolbot %s: %s\n", command, model.error().c_str());
    return nullptr;
  }
  return std::move(*model);
}

// `s` as a JSON string literal (quotes included), escaped by the JSON library the chat template
// uses; bytes that are not UTF-8 (a reply cut inside a character) become U+FFFD.
inline std::string json_string(std::string_view s) {
  return smol::chat::Json(std::string(s))
      .dump(-1, ' ', false, smol::chat::Json::error_handler_t::replace);
}

// A float as JSON (non-finite values, which JSON lacks, become null).
inline std::string json_number(double v) {
  if (v != v || v > 1e308 || v < -1e308) return "null";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

// Appends "1,2,3" (no brackets).
inline void append_ids(std::string& out, const std::vector<int32_t>& ids) {
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) out += ',';
    out += std::to_string(ids[i]);
  }
}

}  // namespace smolbot
