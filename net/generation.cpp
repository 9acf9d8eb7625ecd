#include "smol/generation.h"

#include <nlohmann/json.hpp>

namespace smol::net {

using nlohmann::json;

Generation::Generation(std::string id, GenerationRequest request)
    : id_(std::move(id)), request_(std::move(request)) {}

std::vector<Event> Generation::wait_events(int64_t from, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  if (from < 0) from = 0;
  cv_.wait_for(lock, timeout, [&] {
    return static_cast<int64_t>(events_.size()) > from || state_ == GenerationState::kFinished;
  });
  if (static_cast<int64_t>(events_.size()) <= from) return {};
  return {events_.begin() + from, events_.end()};
}

bool Generation::wait_admitted(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return admitted_ || state_ == GenerationState::kFinished; });
  return admitted_;
}

bool Generation::finished() const {
  std::lock_guard lock(mu_);
  return state_ == GenerationState::kFinished;
}

GenerationState Generation::state() const {
  std::lock_guard lock(mu_);
  return state_;
}

Generation::Result Generation::result() const {
  std::lock_guard lock(mu_);
  Result r = result_;
  json calls = json::array();
  for (const auto& c : tool_calls_) calls.push_back(json::parse(c));
  r.tool_calls_json = calls.dump();
  return r;
}

void Generation::mark_admitted(int prompt_tokens, int cached_tokens) {
  std::lock_guard lock(mu_);
  admitted_ = true;
  state_ = GenerationState::kRunning;
  result_.stats.prompt_tokens = prompt_tokens;
  result_.stats.cached_tokens = cached_tokens;
  cv_.notify_all();
}

void Generation::append_locked(const std::string& type, const std::string& data_json) {
  events_.push_back(Event{static_cast<int64_t>(events_.size()), type, data_json});
  cv_.notify_all();
}

void Generation::append(const std::string& type, const std::string& data_json) {
  std::lock_guard lock(mu_);
  append_locked(type, data_json);
}

void Generation::add_content(PieceKind kind, const std::string& text,
                             const std::string& arguments) {
  std::lock_guard lock(mu_);
  switch (kind) {
    case PieceKind::kThinking:
      result_.reasoning += text;
      append_locked("thinking", json{{"text", text}}.dump());
      break;
    case PieceKind::kText:
      result_.content += text;
      append_locked("token", json{{"text", text}}.dump());
      break;
    case PieceKind::kToolCall: {
      // Arguments stay a JSON string, as the OpenAI API carries them.
      std::string call_id = "call_" + id_ + "_" + std::to_string(tool_calls_.size());
      json call = {{"id", call_id}, {"name", text}, {"arguments", arguments}};
      tool_calls_.push_back(call.dump());
      append_locked("tool_call", call.dump());
      break;
    }
  }
}

void Generation::finish(const GenerationStats& stats) {
  std::lock_guard lock(mu_);
  if (state_ == GenerationState::kFinished) return;
  result_.stats = stats;
  json data = {
      {"prompt_tokens", stats.prompt_tokens},       {"cached_tokens", stats.cached_tokens},
      {"generated_tokens", stats.generated_tokens}, {"ttft_ms", stats.ttft_ms},
      {"tokens_per_s", stats.tokens_per_s},         {"finish_reason", stats.finish_reason}};
  append_locked("done", data.dump());
  state_ = GenerationState::kFinished;
  cv_.notify_all();
}

void Generation::fail(int code, const std::string& type, const std::string& message) {
  std::lock_guard lock(mu_);
  if (state_ == GenerationState::kFinished) return;
  result_.error_code = code;
  result_.error_type = type;
  result_.error_message = message;
  result_.stats.finish_reason = "error";
  append_locked("error", json{{"message", message}, {"type", type}, {"code", code}}.dump());
  state_ = GenerationState::kFinished;
  cv_.notify_all();
}

}  // namespace smol::net
