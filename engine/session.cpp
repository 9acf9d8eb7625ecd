// Session: the KV cache and run state of one sequence, and input validation around forward().
#include <algorithm>
#include <string>

#include "forward.h"
#include "kv_cache.h"

namespace smol::engine {

Session::Session(const Model& model, std::unique_ptr<State> state)
    : model_(model), state_(std::move(state)) {}

Session::~Session() = default;

Result<std::unique_ptr<Session>> Session::create(const Model& model,
                                                 const SessionOptions& options) {
  const ModelConfig& c = model.config();
  if (options.n_ctx < 1)
    return Error{"context size must be >= 1, got " + std::to_string(options.n_ctx)};
  if (options.n_batch < 1)
    return Error{"batch size must be >= 1, got " + std::to_string(options.n_batch)};
  const int n_ctx = std::min(options.n_ctx, c.n_ctx_train);
  const int n_batch = std::min(options.n_batch, n_ctx);
  auto state = std::make_unique<State>(c, n_ctx, n_batch);
  // Attention scratch for the kernels' thread count (attention never runs more threads than
  // its scratch holds, so a count raised later only caps attention's share).
  state->run.attn_scratch.assign(
      kernels::attention_scratch_floats(state->cache.layer(0), c.n_head, kernels::num_threads()),
      0.0f);
  return std::unique_ptr<Session>(new Session(model, std::move(state)));
}

Status Session::eval(std::span<const int32_t> tokens) { return run(tokens, nullptr); }

Status Session::eval_all_logits(std::span<const int32_t> tokens, std::span<float> all_logits_out) {
  const size_t need = tokens.size() * static_cast<size_t>(model_.config().n_vocab);
  if (all_logits_out.size() != need) {
    return Error{"logits buffer holds " + std::to_string(all_logits_out.size()) + " floats, need " +
                 std::to_string(need)};
  }
  return run(tokens, all_logits_out.data());
}

Status Session::run(std::span<const int32_t> tokens, float* all_logits) {
  const ModelConfig& c = model_.config();
  if (tokens.empty()) return Error{"nothing to evaluate: empty token list"};
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i] < 0 || tokens[i] >= c.n_vocab) {
      return Error{"token id " + std::to_string(tokens[i]) + " at index " + std::to_string(i) +
                   " is outside the vocabulary [0, " + std::to_string(c.n_vocab) + ")"};
    }
  }
  SMOL_TRY(state_->cache.check_room(static_cast<int>(tokens.size())));

  const size_t batch = static_cast<size_t>(state_->run.n_batch);
  for (size_t done = 0; done < tokens.size(); done += batch) {
    const auto chunk = tokens.subspan(done, std::min(batch, tokens.size() - done));
    float* out = all_logits ? all_logits + done * static_cast<size_t>(c.n_vocab) : nullptr;
    const Segment seg[1] = {
        {&state_->cache, static_cast<int>(chunk.size()), state_->run.attn_scratch}};
    forward(model_, state_->run, seg, chunk, out, state_->hook);
  }
  if (all_logits) {
    // Keep logits() meaningful after an all-logits call too: the last row.
    const float* last = all_logits + (tokens.size() - 1) * static_cast<size_t>(c.n_vocab);
    std::copy(last, last + c.n_vocab, state_->run.logits.begin());
  }
  return {};
}

std::span<float> Session::logits() { return state_->run.logits; }
int Session::n_past() const { return state_->cache.n_past(); }
int Session::n_ctx() const { return state_->cache.n_ctx(); }
Status Session::truncate(int n_pos) { return state_->cache.truncate(n_pos); }
void Session::set_hook(ActivationHook hook) { state_->hook = std::move(hook); }
size_t Session::kv_bytes() const { return state_->cache.bytes(); }
size_t Session::scratch_bytes() const { return state_->run.bytes(); }

}  // namespace smol::engine
