// The one route table of the server (docs/api.md documents each entry).
#include "routes.h"

namespace smol::net {

const std::vector<Route>& routes() {
  static const std::vector<Route> table = {
      // Native session API (web UI).
      {"GET", "/api/sessions", list_sessions, true},
      {"POST", "/api/sessions", create_session, true},
      {"GET", "/api/sessions/{id}", get_session, true},
      {"PATCH", "/api/sessions/{id}", patch_session, true},
      {"DELETE", "/api/sessions/{id}", delete_session, true},
      {"POST", "/api/sessions/{id}/messages", post_message, true},
      {"PATCH", "/api/sessions/{id}/messages/{mid}", edit_message, true},
      {"POST", "/api/sessions/{id}/regenerate", regenerate, true},
      {"POST", "/api/sessions/{id}/stop", stop_session, true},
      {"GET", "/api/sessions/{id}/events", session_events, true},
      // OpenAI-compatible API.
      {"POST", "/v1/chat/completions", chat_completions, true},
      {"GET", "/v1/models", list_models, true},
      // Model utilities and operations.
      {"GET", "/health", health, false},
      {"GET", "/props", props, true},
      {"POST", "/tokenize", tokenize, true},
      {"POST", "/detokenize", detokenize, true},
      {"POST", "/apply-template", apply_template, true},
      {"GET", "/metrics", metrics, true},
  };
  return table;
}

bool match_route(const std::string& pattern, const std::string& path,
                 std::map<std::string, std::string>& params) {
  size_t p = 0, q = 0;
  std::map<std::string, std::string> found;
  while (p < pattern.size() && q < path.size()) {
    if (pattern[p] == '{') {
      size_t close = pattern.find('}', p);
      size_t end = path.find('/', q);
      if (end == std::string::npos) end = path.size();
      if (end == q) return false;  // empty segment
      found[pattern.substr(p + 1, close - p - 1)] = path.substr(q, end - q);
      p = close + 1;
      q = end;
    } else if (pattern[p] == path[q]) {
      ++p;
      ++q;
    } else {
      return false;
    }
  }
  if (p != pattern.size() || q != path.size()) return false;
  params = std::move(found);
  return true;
}

}  // namespace smol::net
