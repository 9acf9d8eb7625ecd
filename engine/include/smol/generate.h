// smol/generate.h — the token loop: prompt prefill, then sample / evaluate one token at a time
// until a stop condition, streaming newly completed text to a callback.
//
// Goals: one generation path for the CLI, the benchmark and the server (streaming and not);
// stop on every end-of-generation token the vocabulary names (EOS, <|im_end|>, <|eot_id|>,
// <|end_of_text|>, <|eom_id|>) and on stop strings, never streaming text that a stop string may
// still swallow; cancellation between tokens (the callback returns false); no heap allocation per
// token beyond the growth of the returned text.
// Non-goals: batching several requests, speculative decoding, grammars.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "smol/engine.h"
#include "smol/sampler.h"

namespace smol::engine {

enum class StopReason { kMaxTokens, kEndOfGeneration, kStopString, kContextFull, kCancelled };
const char* stop_reason_name(StopReason reason);  // "length", "eog", "stop", "context", "cancel"

struct GenerateOptions {
  int max_tokens = 128;                // tokens to generate at most (the EOG token counts)
  SamplerParams sampling;              // greedy by default
  std::vector<std::string> stop;       // stop strings; the text is cut before the first match
  bool stop_at_eog = true;             // stop on the vocabulary's end-of-generation tokens
  bool render_special = false;         // include CONTROL token text (<think>, ...) in the text
  bool count_prompt_penalties = true;  // prompt tokens enter the sampler's penalty window
  int top_logits = 0;                  // record the K best (id, logit) pairs of every step
  // Checked before each sampled token (not inside the prefill): once true, generation ends with
  // StopReason::kCancelled. Another thread (or a signal handler) may set it; not owned.
  const std::atomic<bool>* stop_flag = nullptr;
};

struct GenerateResult {
  std::vector<int32_t> ids;  // generated ids, including a final EOG token if one stopped it
  std::string text;          // decoded text of ids (EOG token excluded), cut at a stop string
  StopReason stop_reason = StopReason::kMaxTokens;
  std::vector<std::vector<std::pair<int32_t, float>>> top;  // [steps][K] raw logits, best first
  int n_prompt = 0;                                         // tokens prefilled in this call
  int n_decode = 0;  // single-token evaluations after the prefill
  double prefill_ms = 0;
  double decode_ms = 0;
};

// Called with each piece of newly final text (may be empty for a token that completes nothing
// yet) and the token id; return false to stop (StopReason::kCancelled).
using TokenCallback = std::function<bool(int32_t id, std::string_view text)>;

// Evaluates `prompt` after whatever the session already holds, then generates. Needs the model's
// tokenizer. Errors: empty prompt, bad ids, a prompt that does not fit the context.
Result<GenerateResult> generate(Session& session, std::span<const int32_t> prompt,
                                const GenerateOptions& options, const TokenCallback& on_token = {});

// Holds back streamed text while it might still turn into a stop string.
class StopMatcher {
 public:
  explicit StopMatcher(std::vector<std::string> stops);
  // Appends text. Returns true once a stop string is complete; text() is then cut before it.
  bool push(std::string_view piece);
  const std::string& text() const { return text_; }
  // Bytes of text() that are final (cannot become part of a stop string any more).
  size_t safe_size() const { return safe_; }

 private:
  std::vector<std::string> stops_;
  std::string text_;
  size_t safe_ = 0;
  size_t max_stop_ = 0;
};

// The K largest entries of logits as (id, logit), best first; ties by lower id.
void top_k_logits(std::span<const float> logits, int k,
                  std::vector<std::pair<int32_t, float>>& out);

}  // namespace smol::engine
