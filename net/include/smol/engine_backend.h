// smol/engine_backend.h — the real Backend: smol_engine (model, sessions, sampler) + smol_chat
// (template interpreter, output parser) behind the service's narrow interface.
//
// Memory budget: every sequence is an engine Session with its own KV cache of n_ctx positions,
// all allocated at load (no allocation while serving). n_slots = 0 derives the count from
// kv_budget_bytes (at least 1, at most 16).
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "smol/backend.h"
#include "smol/result.h"

namespace smol::net {

struct EngineBackendOptions {
  std::string model_path;
  int n_ctx = 4096;   // positions per sequence (clamped to the model's training context)
  int n_threads = 0;  // kernel threads; 0 = leave the default
  int n_slots = 0;    // sequences kept in memory; 0 = as many as kv_budget_bytes allows
  size_t kv_budget_bytes = size_t{2} << 30;
};

// Available when smol_net is built with the engine (SMOL_NET_HAS_ENGINE).
Result<std::unique_ptr<Backend>> load_engine_backend(const EngineBackendOptions& options);

}  // namespace smol::net
