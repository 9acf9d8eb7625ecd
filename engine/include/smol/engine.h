// smol/engine.h — a SmolLM3 (or Llama) model loaded from GGUF, and sessions that run it.
//
// Goals: compute what llama.cpp computes on the same file (same op order, Q8_K activations in
// the quantized dots, f16 KV cache); weights stay zero-copy views into the mmapped file; every
// buffer a session needs is allocated when it is created, so evaluating a token allocates
// nothing; a debug hook sees every named intermediate (for per-layer activation diffs);
// concurrent sequences decode together (BatchDecoder: one pass over the weights for N tokens).
// Non-goals: several sequences per session (make several sessions), GPU, rope scaling.
//
// Errors: a file that is not a supported model (unknown architecture, missing tensor, wrong
// shape, unsupported type) fails in Model::load with one line naming the culprit; bad token ids
// or a full context fail in Session::eval without changing the session.
//
// Threading: a Model is immutable after load and may be shared by sessions; a Session is used
// by one thread at a time. The kernels run their own OpenMP team (kernels::set_num_threads).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "smol/gguf.h"
#include "smol/kernels.h"
#include "smol/model_config.h"
#include "smol/result.h"
#include "smol/tokenizer.h"

namespace smol::engine {

// A weight matrix viewed in place: `rows` rows of `cols` elements of `type`, row-major,
// row_bytes bytes per row. ne0 of the GGUF tensor is `cols` (the input dimension).
struct WeightView {
  kernels::QuantType type = kernels::QuantType::kF32;
  const void* data = nullptr;  // points into the mmapped file
  int64_t rows = 0;
  int64_t cols = 0;
};

struct LayerWeights {
  const float* attn_norm = nullptr;  // [n_embd]
  WeightView attn_q;                 // [n_q][n_embd]
  WeightView attn_k;                 // [n_kv][n_embd]
  WeightView attn_v;                 // [n_kv][n_embd]
  WeightView attn_output;            // [n_embd][n_q]
  const float* ffn_norm = nullptr;   // [n_embd]
  WeightView ffn_gate;               // [n_ff][n_embd]
  WeightView ffn_up;                 // [n_ff][n_embd]
  WeightView ffn_down;               // [n_embd][n_ff]
};

struct ModelWeights {
  WeightView token_embd;               // [n_vocab][n_embd]
  const float* output_norm = nullptr;  // [n_embd]
  WeightView output;                   // [n_vocab][n_embd]; token_embd when tied (SmolLM3)
  std::vector<LayerWeights> layers;    // [n_layer]
};

struct LoadOptions {
  bool load_tokenizer = true;  // false: skip the vocabulary (tests of the forward pass only)
};

class Model {
 public:
  // Maps the file, reads the config, binds every weight (checking name, shape and type) and
  // builds the tokenizer. Errors are one line, prefixed with the path.
  static Result<std::unique_ptr<Model>> load(const std::string& path,
                                             const LoadOptions& options = {});

  const ModelConfig& config() const { return config_; }
  const ModelWeights& weights() const { return weights_; }
  const gguf::File& file() const { return file_; }
  // nullptr when loaded without a tokenizer.
  const tokenizer::Tokenizer* tokenizer() const { return tokenizer_ ? &*tokenizer_ : nullptr; }
  // Bytes of tensor data the weights view (what a forward pass streams, at most once per token).
  uint64_t weight_bytes() const { return weight_bytes_; }

 private:
  explicit Model(gguf::File file) : file_(std::move(file)) {}
  gguf::File file_;
  ModelConfig config_;
  ModelWeights weights_;
  std::optional<tokenizer::Tokenizer> tokenizer_;
  uint64_t weight_bytes_ = 0;
};

// Sees intermediate activations: `name` is one of embd, attn_norm, q, k, v, q_rope, k_rope,
// attn_out, attn_proj, ffn_inp, ffn_norm, ffn_gate, ffn_up, ffn_act, ffn_out, l_out (per layer,
// `layer` >= 0), result_norm and logits (layer -1). data is [n_tokens][width] f32, valid only
// during the call. For RoPE layers q_rope / k_rope are reported; for NoPE layers they are not.
using ActivationHook = std::function<void(std::string_view name, int layer, int n_tokens, int width,
                                          const float* data)>;

struct SessionOptions {
  int n_ctx = 8192;   // KV cache capacity in positions; clamped to the model's n_ctx_train
  int n_batch = 256;  // tokens per forward micro-batch (prefill is split into such chunks)
};

class Session {
 public:
  static Result<std::unique_ptr<Session>> create(const Model& model,
                                                 const SessionOptions& options = {});
  ~Session();

  // Evaluates `tokens` at positions n_past() .. n_past()+size-1 and appends their K/V to the
  // cache. Logits: with all_logits, every position's row lands in all_logits_out
  // ([tokens.size()][n_vocab], which the caller sizes); otherwise only the last token's row is
  // computed, available through logits(). Fails (session unchanged) on an empty batch, an id
  // outside the vocabulary or a full context.
  Status eval(std::span<const int32_t> tokens);
  Status eval_all_logits(std::span<const int32_t> tokens, std::span<float> all_logits_out);

  // Logits of the last evaluated token: [n_vocab]. Mutable so a sampler may bias in place.
  std::span<float> logits();

  int n_past() const;
  int n_ctx() const;
  // Keeps the first n_pos positions (prefix reuse). n_pos <= n_past().
  Status truncate(int n_pos);

  void set_hook(ActivationHook hook);

  const Model& model() const { return model_; }
  size_t kv_bytes() const;       // KV cache memory
  size_t scratch_bytes() const;  // all other run-state memory

 private:
  friend class BatchDecoder;
  struct State;
  Session(const Model& model, std::unique_ptr<State> state);
  Status run(std::span<const int32_t> tokens, float* all_logits);
  const Model& model_;
  std::unique_ptr<State> state_;
};

// Decodes one token for each of several sessions of the same model in ONE forward pass: the
// projections and the output head run as matmuls over the N rows (each weight block is streamed
// once for all of them), while RoPE, the K/V store and attention use each session's own
// position and KV cache. Decode is memory-bound, so N streams cost little more than one.
//
// Numerics: row i is the same computation as sessions[i]->eval({tokens[i]}) (same activation
// quantization and integer dot products); only the float summation order of the matmul kernel
// may differ from the matvec one, so logits agree to ~1e-6 relative, not always bit for bit
// (docs/engine.md, "Batched decode"). With N = 1 the pass is exactly eval().
//
// The run state for max_sessions rows is allocated by create(), so decode() allocates nothing.
// Session hooks are not called from a batched pass. Use from one thread at a time, like the
// sessions it drives.
class BatchDecoder {
 public:
  static Result<std::unique_ptr<BatchDecoder>> create(const Model& model, int max_sessions);
  ~BatchDecoder();

  // Evaluates tokens[i] in sessions[i] at its n_past() and leaves that token's logits in
  // sessions[i]->logits(). Fails, changing no session, when the spans differ in length or are
  // empty or longer than max_sessions(), a session is null, repeated or of another model, a
  // token id is outside the vocabulary, or a session's context is full.
  Status decode(std::span<Session* const> sessions, std::span<const int32_t> tokens);

  int max_sessions() const;
  const Model& model() const { return model_; }
  size_t scratch_bytes() const;  // run-state memory

 private:
  struct State;
  BatchDecoder(const Model& model, std::unique_ptr<State> state);
  const Model& model_;
  std::unique_ptr<State> state_;
};

}  // namespace smol::engine
