// smol/conversation.h — a multi-turn chat over one Session whose KV cache is reused across turns.
//
// Each turn re-renders the whole conversation with the model's chat template (GGUF
// `tokenizer.chat_template`, add_generation_prompt = true), tokenizes it (special tokens parsed),
// keeps the longest common prefix of those tokens with the tokens the KV cache holds, truncates
// the cache there and prefills only the rest, then generates. The cache is compared token by
// token, never assumed: after a turn it holds prompt + generated ids, while the next rendering
// holds the re-tokenized answer (and the SmolLM3 template drops earlier reasoning), so reuse
// stops at the first difference and everything after it is recomputed.
//
// Goals: the prompt is exactly what the template renders (no incremental string surgery); a
// turn's logits equal those of a cold session on the same prompt; stats per turn (prompt tokens,
// cached tokens, prefill / decode time); a turn that does not fit the context is refused with
// prompt tokens and context size, leaving the conversation unchanged, or (drop_oldest) the
// oldest turns are dropped, never the system prompt; cancellation between tokens keeps the text
// produced so far and a cache that matches tokens() exactly.
// Non-goals: several conversations per session, summarising dropped turns, tool execution.
//
// Threading: one thread uses a Conversation; only TurnOptions::stop_flag may be set from another
// thread or a signal handler.
#pragma once

#include <atomic>
#include <ctime>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "smol/chat_template.h"
#include "smol/engine.h"
#include "smol/generate.h"
#include "smol/output_parser.h"
#include "smol/result.h"

namespace smol::engine {

struct ChatMessage {
  std::string role;       // "system", "user", "assistant" or "tool"
  std::string content;    // assistant: the answer, tool calls kept as <tool_call>raw</tool_call>
  std::string reasoning;  // assistant only: the think block's text; passed to the template as
                          // `reasoning_content`, which the SmolLM3 template does not print
};

// OpenAI-style JSON: [{"role": ..., "content": ..., "reasoning_content": ...}, ...] (the last key
// only when non-empty). from_json also accepts {"messages": [...]}; errors name the bad element.
chat::Json messages_to_json(const std::vector<ChatMessage>& messages);
Result<std::vector<ChatMessage>> messages_from_json(const chat::Json& json);

struct ConversationOptions {
  std::optional<bool> enable_thinking;  // unset: the template's default (SmolLM3: thinking on)
  chat::Json xml_tools;                 // JSON array or null; passed as the template variable
  chat::Json python_tools;              // JSON array or null
  // Drop the oldest turns (a user message and the replies after it) until the prompt fits,
  // instead of refusing. The system prompt and the newest user turn are never dropped.
  bool drop_oldest = false;
  // A prompt fits when prompt_tokens + min_free_tokens <= n_ctx (room for the reply).
  int min_free_tokens = 1;
  std::function<std::tm()> now;  // strftime_now() in the template; unset: local time
};

struct TurnOptions {
  // max_tokens, sampling, stop strings; its stop_flag cancels. render_special is forced on (the
  // output parser must see <think>). Prompt penalties (count_prompt_penalties) see only the
  // evaluated part of the prompt, not the reused prefix.
  GenerateOptions generate;
};

struct TurnStats {
  int prompt_tokens = 0;     // tokens of the rendered prompt
  int cached_tokens = 0;     // prompt tokens reused from the KV cache (not evaluated)
  int evaluated_tokens = 0;  // prompt tokens prefilled this turn = prompt - cached
  int generated_tokens = 0;  // sampled ids, including a final end-of-generation token
  int dropped_messages = 0;  // messages dropped by drop_oldest before this turn
  double prefill_ms = 0;
  double decode_ms = 0;
  int n_decode = 0;  // single-token evaluations (generated tokens that entered the cache)
  StopReason stop_reason = StopReason::kMaxTokens;
  double prefill_tok_s() const { return prefill_ms > 0 ? evaluated_tokens * 1e3 / prefill_ms : 0; }
  double decode_tok_s() const { return decode_ms > 0 ? n_decode * 1e3 / decode_ms : 0; }
};

struct TurnResult {
  ChatMessage message;  // the recorded assistant message
  std::vector<chat::ToolCall> tool_calls;
  std::vector<std::string> warnings;  // output parser warnings (bad tool JSON, unclosed think)
  TurnStats stats;
};

// Streamed, parsed output of a turn (reasoning, answer pieces, tool calls, warnings).
using TurnCallback = std::function<void(const chat::OutputEvent& event)>;

class Conversation {
 public:
  // Owns a new session on `model` (which must outlive the conversation and have a tokenizer).
  static Result<std::unique_ptr<Conversation>> create(const Model& model,
                                                      const SessionOptions& session_options = {},
                                                      ConversationOptions options = {});
  // Borrows `session` (which must outlive the conversation). Its current contents are discarded.
  static Result<std::unique_ptr<Conversation>> create(Session& session,
                                                      ConversationOptions options = {});
  ~Conversation();

  // Appends the user message, answers it and records the reply. On an error before generation
  // (prompt does not fit, template error) the conversation and the cache are unchanged. On a
  // cancelled or length-limited turn the partial reply is recorded.
  Result<TurnResult> send(std::string_view user_text, const TurnOptions& options = {},
                          const TurnCallback& on_event = {});
  // Answers the messages as they stand (e.g. after add() of a tool result).
  Result<TurnResult> respond(const TurnOptions& options = {}, const TurnCallback& on_event = {});

  // Message list edits. They never touch the cache: the next turn reuses whatever prefix still
  // matches. Roles are checked ("system" only as the first message).
  Status add(ChatMessage message);
  Status set_messages(std::vector<ChatMessage> messages);
  // Sets (non-empty) or removes (empty) the system prompt.
  void set_system(std::string text);
  // Forgets every message except the system prompt (/clear).
  void clear();
  // Empties the KV cache too (the next turn prefills everything).
  void reset_cache();

  void set_enable_thinking(std::optional<bool> enable) { options_.enable_thinking = enable; }
  ConversationOptions& options() { return options_; }
  const std::vector<ChatMessage>& messages() const { return messages_; }

  // The prompt the next respond() would evaluate (rendered with add_generation_prompt).
  Result<std::string> render_prompt() const;
  Result<std::vector<int32_t>> prompt_tokens() const;

  // Token ids the KV cache holds, position by position (== session().n_past() entries).
  const std::vector<int32_t>& tokens() const { return tokens_; }
  Session& session() { return *session_; }
  int n_ctx() const { return session_->n_ctx(); }
  // Why the model's template is not used (it failed to parse), or empty.
  const std::string& template_warning() const { return template_warning_; }

 private:
  Conversation(Session& session, std::unique_ptr<Session> owned, ConversationOptions options);
  struct Prompt {
    std::string text;
    std::vector<int32_t> tokens;
  };
  Status load_template();
  Result<Prompt> build_prompt() const;
  // build_prompt(); with drop_oldest, drops turns (counting messages in *dropped) until it fits.
  // On error messages_ may have lost turns: the caller restores it.
  Result<Prompt> fitting_prompt(int* dropped);
  bool drop_oldest_turn(int* dropped);

  std::unique_ptr<Session> owned_;
  Session* session_;
  ConversationOptions options_;
  std::optional<chat::Template> template_;  // nullopt: plain ChatML
  std::string template_warning_;
  chat::Json special_tokens_ = chat::Json::object();  // bos_token / eos_token for the template
  std::vector<ChatMessage> messages_;
  std::vector<int32_t> tokens_;
};

}  // namespace smol::engine
