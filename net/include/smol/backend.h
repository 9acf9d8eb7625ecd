// smol/backend.h — what the chat service needs from a model, and nothing more.
//
// Goals: the service core (sessions, queue, scheduling, events) is written against this narrow
// interface, so it knows neither the engine's internals nor HTTP. The real implementation wraps
// smol_engine + smol_chat (net/engine_backend.cpp); unit tests of the HTTP layer may substitute a
// scripted one.
// Several decoding sequences advance together through step_many(), which a backend may run as one
// batched forward pass (the engine's does: one pass over the weights for all of them). Prompts
// are still prefilled one sequence (one chunk) at a time.
// Non-goals: batching prefill chunks of different sequences together.
//
// Threading: a Backend and its Sequences are used by ONE thread only (the engine worker), except
// info(), which is immutable after construction.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "smol/result.h"

namespace smol::net {

// One chat turn, OpenAI-shaped. tool_calls_json is a JSON array of
// {"name","arguments"} objects ("" = none); tool messages carry their result in `content`.
struct Message {
  std::string role;  // "system" | "user" | "assistant" | "tool"
  std::string content;
  std::string reasoning;  // assistant thinking text (not re-rendered by the SmolLM3 template)
  std::string tool_calls_json;
};

struct PromptOptions {
  bool enable_thinking = true;
  std::string tools_json;  // JSON array of OpenAI "tools" entries, "" = none
};

// Sampling knobs; neutral values switch a stage off (top_k 0, top_p 1, min_p 0, penalties 1/0/0).
struct Sampling {
  float temperature = 0.6f;
  float top_p = 0.95f;
  int top_k = 20;
  float min_p = 0.0f;
  float repeat_penalty = 1.0f;
  float presence_penalty = 0.0f;
  float frequency_penalty = 0.0f;
  uint64_t seed = 0;                                  // 0 = pick one at random
  std::vector<std::pair<int32_t, float>> logit_bias;  // (token id, added to its logit)
  bool ignore_eos = false;  // end-of-generation tokens are never sampled: runs to max_tokens
};

// What the streaming output parser separated from the raw text.
enum class PieceKind { kThinking, kText, kToolCall };
struct ParsedPiece {
  PieceKind kind;
  std::string text;       // thinking/answer text; for kToolCall the tool name
  std::string arguments;  // kToolCall only: JSON text of the arguments
};

// Fed decoded text as it arrives; splits reasoning, answer and tool calls. Tags may be split
// across calls. finish() flushes whatever is held back (an unclosed think block stays thinking).
class OutputParser {
 public:
  virtual ~OutputParser() = default;
  virtual std::vector<ParsedPiece> feed(std::string_view text) = 0;
  virtual std::vector<ParsedPiece> finish() = 0;
};

// One KV cache. tokens() is exactly what the cache holds.
class Sequence {
 public:
  virtual ~Sequence() = default;
  // Makes the cache hold `prompt`, reusing the longest common prefix with tokens() and
  // evaluating only the rest; returns how many tokens were reused. Leaves next-token logits ready.
  virtual Result<int> prefill(std::span<const int32_t> prompt) = 0;
  // Samples a token from the current logits, appends it to the cache and evaluates it so the
  // next call can sample again. A token that ends generation is returned but not evaluated.
  virtual Result<int32_t> step(const Sampling& sampling) = 0;
  virtual const std::vector<int32_t>& tokens() const = 0;
  virtual void clear() = 0;
};

struct BackendInfo {
  std::string model_name;  // shown by /v1/models and /props
  std::string model_path;
  int n_ctx = 0;  // tokens per sequence
  int n_vocab = 0;
  int n_slots = 1;  // sequences (KV caches) the memory budget allows
  std::string chat_template;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual const BackendInfo& info() const = 0;
  // The model's chat template applied to `messages`; with the assistant header when
  // add_generation_prompt. Errors (bad tools JSON...) are user-facing messages.
  virtual Result<std::string> render(const std::vector<Message>& messages,
                                     const PromptOptions& options, bool add_generation_prompt) = 0;
  // Special-token text ("<|im_start|>") becomes its special id.
  virtual Result<std::vector<int32_t>> tokenize(std::string_view text) = 0;
  // Raw bytes of the tokens; may end inside a UTF-8 sequence (callers buffer).
  virtual std::string detokenize(std::span<const int32_t> tokens) = 0;
  virtual bool is_end_of_generation(int32_t token) const = 0;
  virtual std::unique_ptr<Sequence> new_sequence() = 0;
  // One step() for each of several distinct sequences of this backend, sequences[i] sampling
  // with sampling[i]; result i is what sequences[i]->step(sampling[i]) would return. A backend
  // may evaluate the tokens together; the default simply steps each in turn.
  virtual std::vector<Result<int32_t>> step_many(std::span<Sequence* const> sequences,
                                                 std::span<const Sampling> sampling) {
    std::vector<Result<int32_t>> out;
    out.reserve(sequences.size());
    for (size_t i = 0; i < sequences.size(); ++i) out.push_back(sequences[i]->step(sampling[i]));
    return out;
  }
  // `prompt` is the rendered prompt the output continues (it tells whether the output starts
  // inside an open <think> block).
  virtual std::unique_ptr<OutputParser> new_parser(const std::string& prompt) = 0;
};

}  // namespace smol::net
