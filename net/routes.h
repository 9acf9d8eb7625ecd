// routes.h (private) — the route table and the handlers it names.
//
// Handlers are short: validate input, call the service, shape the answer. They never throw on
// purpose; the dispatcher (http_server.cpp) still catches anything at the adapter boundary.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "http_context.h"
#include "smol/chat_service.h"
#include "smol/server.h"

namespace smol::net {

// State shared by all handlers.
struct Api {
  std::shared_ptr<ChatService> service;
  ServerOptions options;
  std::atomic<bool> stopping{false};
  std::atomic<int64_t> http_requests{0};
  std::atomic<int64_t> http_errors{0};  // 4xx/5xx answers
};

using Handler = void (*)(HttpContext& ctx, Api& api);

struct Route {
  const char* method;
  const char* pattern;  // "/api/sessions/{id}": a {name} segment matches one path segment
  Handler handler;
  bool needs_key;  // guarded by --api-key when one is set
};

const std::vector<Route>& routes();

// True when `path` matches `pattern`; fills ctx.params().
bool match_route(const std::string& pattern, const std::string& path,
                 std::map<std::string, std::string>& params);

// Shared JSON helpers.
json session_json(const Session& s, bool with_messages);
// Streams a generation's events as native SSE from `from` (until done/error or client leaves).
void stream_native(HttpContext& ctx, Api& api, const std::shared_ptr<Generation>& gen,
                   int64_t from);

// Native session API (routes_sessions.cpp)
void list_sessions(HttpContext&, Api&);
void create_session(HttpContext&, Api&);
void get_session(HttpContext&, Api&);
void patch_session(HttpContext&, Api&);
void delete_session(HttpContext&, Api&);
void post_message(HttpContext&, Api&);
void edit_message(HttpContext&, Api&);
void regenerate(HttpContext&, Api&);
void stop_session(HttpContext&, Api&);
void session_events(HttpContext&, Api&);

// OpenAI-compatible API (routes_openai.cpp)
void chat_completions(HttpContext&, Api&);
void list_models(HttpContext&, Api&);

// Utilities, health, metrics, static files (routes_misc.cpp)
void health(HttpContext&, Api&);
void props(HttpContext&, Api&);
void tokenize(HttpContext&, Api&);
void detokenize(HttpContext&, Api&);
void apply_template(HttpContext&, Api&);
void metrics(HttpContext&, Api&);
void static_file(HttpContext&, Api&);

}  // namespace smol::net
