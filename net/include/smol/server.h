// smol/server.h — the HTTP front door: a thin POCO adapter over ChatService.
//
// Goals: native session API (/api/sessions...), SSE streaming, OpenAI-compatible API (/v1),
// model utilities, metrics and the static web UI from www/, with the safety rules of
// docs/api.md (body limit, JSON validation, API key, Origin/Host checks, no path traversal).
// Non-goals: TLS (put a reverse proxy in front), HTTP/2.
// POCO stays inside net/: this header exposes only standard types.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "smol/chat_service.h"
#include "smol/result.h"

namespace smol::net {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0 = ephemeral; see Server::port()
  std::string www_dir = "www";
  std::string api_key;                     // "" = no auth; else Bearer on /v1 and /api
  std::vector<std::string> cors_origins;   // exact origins allowed cross-site; empty = CORS off
  std::vector<std::string> allowed_hosts;  // extra Host names accepted besides loopback/bound host
  size_t max_body_bytes = 1 << 20;
  int max_threads = 128;            // concurrent connections (each SSE stream holds one)
  int keepalive_comment_ms = 5000;  // SSE ": keep-alive" when nothing happened for this long
};

class Server {
 public:
  static Result<std::unique_ptr<Server>> start(const ServerOptions& options,
                                               std::shared_ptr<ChatService> service);
  ~Server();  // stops accepting, closes connections
  int port() const;
  std::string url() const;
  void stop();

 private:
  Server();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace smol::net
