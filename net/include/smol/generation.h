// smol/generation.h — one generation job and its append-only event log.
//
// Goals: every consumer (a native SSE stream, a reconnecting browser, an OpenAI streaming or
// non-streaming response) reads the same log, so streaming and non-streaming share one path and
// a client resuming with Last-Event-ID misses nothing. The log lives as long as anyone holds the
// Generation, independent of the HTTP connection that started it.
// Non-goals: persistence of the event log (the finished answer is persisted by the service).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "smol/backend.h"

namespace smol::net {

// `data` is a serialized JSON object. Event types: "thinking", "token", "tool_call", "done",
// "error". index is 0-based and dense within one generation.
struct Event {
  int64_t index = 0;
  std::string type;
  std::string data;
};

struct GenerationStats {
  int prompt_tokens = 0;
  int cached_tokens = 0;
  int generated_tokens = 0;
  double ttft_ms = 0;         // submit -> first generated token
  double tokens_per_s = 0;    // generated tokens / decode time
  std::string finish_reason;  // "stop" | "length" | "tool_calls" | "cancelled" | "error"
};

// What the service asks the worker to do.
struct GenerationRequest {
  std::vector<Message> messages;
  PromptOptions prompt;
  Sampling sampling;
  int max_tokens = 1024;
  std::vector<std::string> stop;  // stop strings on the answer text
  std::string session_id;         // "" for stateless (OpenAI) requests
};

enum class GenerationState { kQueued, kRunning, kFinished };

class Generation {
 public:
  Generation(std::string id, GenerationRequest request);

  const std::string& id() const { return id_; }
  const GenerationRequest& request() const { return request_; }

  // Consumers: events with index >= from (waits up to `timeout` when there are none yet).
  // Returns an empty vector on timeout or when finished with nothing new.
  std::vector<Event> wait_events(int64_t from, std::chrono::milliseconds timeout) const;
  // Waits until the worker admitted the job (prompt fits) or it finished; true when admitted.
  bool wait_admitted(std::chrono::milliseconds timeout) const;
  bool finished() const;
  GenerationState state() const;
  void cancel() { cancelled_.store(true); }
  bool cancelled() const { return cancelled_.load(); }

  // Snapshot of the accumulated result (valid at any time, final once finished()).
  struct Result {
    std::string content;
    std::string reasoning;
    std::string tool_calls_json;  // JSON array, "[]" when none
    GenerationStats stats;
    std::string error_message, error_type;
    int error_code = 0;  // HTTP-like status of an error, 0 = none
  };
  Result result() const;

  // Producer side (the worker only).
  void mark_admitted(int prompt_tokens, int cached_tokens);
  void append(const std::string& type, const std::string& data_json);
  void add_content(PieceKind kind, const std::string& text, const std::string& arguments);
  void finish(const GenerationStats& stats);
  void fail(int code, const std::string& type, const std::string& message);

  const std::chrono::steady_clock::time_point submitted_at = std::chrono::steady_clock::now();

 private:
  void append_locked(const std::string& type, const std::string& data_json);

  const std::string id_;
  const GenerationRequest request_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::vector<Event> events_;
  GenerationState state_ = GenerationState::kQueued;
  bool admitted_ = false;
  Result result_;
  std::vector<std::string> tool_calls_;  // serialized {"name","arguments"} objects
  std::atomic<bool> cancelled_{false};
};

}  // namespace smol::net
