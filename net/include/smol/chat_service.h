// smol/chat_service.h — the server's core: sessions, messages, generation jobs, scheduling.
//
// Goals: everything the HTTP adapter exposes, without knowing HTTP. One engine worker thread
// owns the Backend (it is created on that thread, so the HTTP side can answer "loading" while
// the model loads) and round-robins between active generations at token granularity, each on
// its own KV cache (Sequence); cancellation is checked between tokens. A new job takes the idle
// sequence whose cached tokens share the longest prefix with its prompt, so a session's next
// turn reuses its cache and an evicted session simply re-prefills. Sessions and messages persist
// in SQLite (one transaction per change); an answer is stored only when its generation ends, so
// a kill -9 mid-generation leaves the previous, consistent state.
// Non-goals: multi-model serving, batching sequences in one forward pass.
//
// Errors: ServiceError carries an HTTP-like code so adapters can map it without string matching.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "smol/backend.h"
#include "smol/generation.h"

namespace smol::net {

struct ServiceOptions {
  std::string data_dir;  // SQLite store lives here; "" = in-memory store (tests)
  int max_queue = 64;    // queued + running jobs beyond which submit() says 503
  int max_sessions = 1000;
  int max_messages_per_session = 2000;
  size_t max_message_bytes = 256 * 1024;
  int max_tokens_limit = 32768;  // upper bound a request may ask for
};

struct SessionSettings {
  std::string system_prompt;
  bool thinking = true;
  Sampling sampling;
  int max_tokens = 1024;
};

struct StoredMessage {
  int64_t id = 0;
  std::string role;
  std::string content;
  std::string reasoning;
  std::string tool_calls_json;  // "" or JSON array
  std::string status;           // "complete" | "stopped" | "length"
  std::string stats_json;       // "" or JSON object (assistant messages)
  int64_t created_ms = 0;
};

struct Session {
  std::string id;
  std::string title;
  SessionSettings settings;
  int64_t created_ms = 0;
  int64_t updated_ms = 0;
  std::vector<StoredMessage> messages;  // filled by get_session only
  std::string generation_id;            // current/last generation in memory, "" if none
  bool generating = false;
};

// Partial update of a session; unset fields are kept.
struct SessionPatch {
  std::optional<std::string> title;
  std::optional<std::string> system_prompt;
  std::optional<bool> thinking;
  std::optional<Sampling> sampling;
  std::optional<int> max_tokens;
};

struct ServiceError {
  int code;          // 400, 404, 409, 413, 503...
  std::string type;  // "invalid_request_error", "not_found_error", ...
  std::string message;
};

template <typename T>
struct Outcome {
  std::optional<T> value;
  ServiceError error{0, "", ""};
  bool ok() const { return value.has_value(); }
  static Outcome fail(int code, std::string type, std::string message) {
    return Outcome{std::nullopt, ServiceError{code, std::move(type), std::move(message)}};
  }
};

struct Metrics {
  int64_t generations_started = 0, generations_finished = 0, generations_cancelled = 0;
  int64_t generations_failed = 0, rejected_queue_full = 0;
  int64_t prompt_tokens = 0, cached_tokens = 0, generated_tokens = 0;
  int queued = 0, running = 0;
  double decode_seconds = 0;
};

using BackendFactory = std::function<Result<std::unique_ptr<Backend>>()>;

class ChatService {
 public:
  // Opens the store (errors here are fatal for the caller) and starts the worker, which then
  // creates the backend; ready() turns true once it is loaded.
  static Result<std::unique_ptr<ChatService>> create(ServiceOptions options,
                                                     BackendFactory factory);
  ~ChatService();  // cancels jobs, joins the worker

  bool ready() const;
  // Set when the backend failed to load ("" otherwise).
  std::string load_error() const;
  // Valid once ready().
  const BackendInfo& info() const;

  Outcome<Session> create_session(const std::string& title, const SessionSettings& settings);
  Outcome<std::vector<Session>> list_sessions();
  Outcome<Session> get_session(const std::string& id);
  Outcome<Session> patch_session(const std::string& id, const SessionPatch& patch);
  Outcome<bool> delete_session(const std::string& id);

  // Appends a user message and starts answering; returns the new generation.
  Outcome<std::shared_ptr<Generation>> post_message(const std::string& session_id,
                                                    const std::string& content);
  // Drops the last answer (everything after the last user message) and answers again.
  Outcome<std::shared_ptr<Generation>> regenerate(const std::string& session_id);
  // Replaces a user message's text, drops every later message and answers again.
  Outcome<std::shared_ptr<Generation>> edit_message(const std::string& session_id,
                                                    int64_t message_id, const std::string& content);
  Outcome<bool> stop(const std::string& session_id);
  // The session's current or most recent generation (kept in memory until the next one).
  Outcome<std::shared_ptr<Generation>> current_generation(const std::string& session_id);

  // Stateless request (OpenAI API).
  Outcome<std::shared_ptr<Generation>> submit(GenerationRequest request);

  // Model utilities, run on the worker thread (they need the backend). Errors are 400s.
  Outcome<std::vector<int32_t>> tokenize(const std::string& text);
  Outcome<std::string> detokenize(const std::vector<int32_t>& tokens);
  Outcome<std::string> apply_template(const std::vector<Message>& messages,
                                      const PromptOptions& options, bool add_generation_prompt);

  Metrics metrics() const;

 private:
  ChatService();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace smol::net
