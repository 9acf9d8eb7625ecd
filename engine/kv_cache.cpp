#include "kv_cache.h"

#include <memory>
#include <string>

namespace smol::engine {

KvCache::KvCache(const ModelConfig& config, int n_ctx) : n_ctx_(n_ctx) {
  SMOL_CHECK(n_ctx > 0, "kv cache needs at least one position");
  kernels::KvCacheView view;
  view.n_head_kv = config.n_head_kv;
  view.n_ctx = n_ctx;
  view.head_dim = config.head_dim;
  const size_t per_tensor = view.elements();
  storage_size_ = per_tensor * 2 * static_cast<size_t>(config.n_layer);
  storage_ = std::make_unique_for_overwrite<uint16_t[]>(storage_size_);
  for (int il = 0; il < config.n_layer; ++il) {
    view.k = storage_.get() + per_tensor * 2 * static_cast<size_t>(il);
    view.v = view.k + per_tensor;
    views_.push_back(view);
  }
}

Status KvCache::check_room(int n_new) const {
  if (n_new < 0 || n_past_ + n_new > n_ctx_) {
    return Error{"context full: " + std::to_string(n_past_) + " positions used + " +
                 std::to_string(n_new) + " new > context size " + std::to_string(n_ctx_)};
  }
  return {};
}

void KvCache::advance(int n_new) {
  SMOL_CHECK(n_new >= 0 && n_past_ + n_new <= n_ctx_, "kv cache advanced past its capacity");
  n_past_ += n_new;
}

Status KvCache::truncate(int n_pos) {
  if (n_pos < 0 || n_pos > n_past_) {
    return Error{"cannot truncate the context to " + std::to_string(n_pos) +
                 " positions: it holds " + std::to_string(n_past_)};
  }
  n_past_ = n_pos;
  return {};
}

}  // namespace smol::engine
