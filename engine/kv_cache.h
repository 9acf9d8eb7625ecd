// KV cache of one sequence: per layer, f16 K and V in the layout of kernels::KvCacheView
// ([n_head_kv][n_ctx][head_dim] each), allocated once for n_ctx positions.
//
// Bookkeeping only: `n_past` positions (0 .. n_past-1) hold valid entries. Truncating keeps a
// prefix (reuse of a common prompt prefix) without touching memory; the entries past n_past are
// simply overwritten by the next evaluation.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "smol/model_config.h"
#include "smol/ops.h"
#include "smol/result.h"

namespace smol::engine {

class KvCache {
 public:
  // n_ctx: capacity in positions (1 .. config.n_ctx_train).
  KvCache(const ModelConfig& config, int n_ctx);

  int n_ctx() const { return n_ctx_; }
  int n_past() const { return n_past_; }
  // Fails (cache untouched) when n_past + n_new would exceed the capacity.
  Status check_room(int n_new) const;
  // Marks n_new more positions valid (after their k/v were stored).
  void advance(int n_new);
  // Keeps positions 0 .. n_pos-1; n_pos must be <= n_past.
  Status truncate(int n_pos);

  kernels::KvCacheView layer(int il) const { return views_[static_cast<size_t>(il)]; }
  size_t bytes() const { return storage_size_ * sizeof(uint16_t); }

 private:
  int n_ctx_;
  int n_past_ = 0;
  // [n_layer][2][n_head_kv][n_ctx][head_dim] f16. Left uninitialised: only positions below
  // n_past are ever read, and untouched pages cost no memory (an 8k context is 600 MB for
  // SmolLM3-3B; zeroing it took ~1 s of start-up).
  std::unique_ptr<uint16_t[]> storage_;
  size_t storage_size_ = 0;
  std::vector<kernels::KvCacheView> views_;  // [n_layer] into storage_
};

}  // namespace smol::engine
