// The POCO adapter: socket, thread pool, and one dispatcher that applies the safety rules in a
// fixed order (Host, CORS, Origin, API key, body limit) before looking up the route table.
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/IPAddress.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/ThreadPool.h>
#include <Poco/URI.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <istream>
#include <limits>

#include "routes.h"
#include "smol/server.h"

namespace smol::net {

namespace {

constexpr size_t kMaxDrainBytes = 16u << 20;

bool is_state_changing(const std::string& method) {
  return method == "POST" || method == "PUT" || method == "PATCH" || method == "DELETE";
}

// "Host: name:port" -> "name" ("[::1]:8080" -> "::1").
std::string host_name(const std::string& host) {
  if (!host.empty() && host[0] == '[') {
    size_t close = host.find(']');
    return close == std::string::npos ? host : host.substr(1, close - 1);
  }
  return host.substr(0, host.find(':'));
}

// DNS rebinding defence: a browser tricked into resolving evil.example to 127.0.0.1 still
// sends "Host: evil.example". Accept IP literals, localhost and configured names only.
bool host_allowed(const std::string& host, const ServerOptions& o) {
  std::string name = host_name(host);
  if (name.empty()) return false;
  if (name == "localhost" || name == o.host) return true;
  if (std::find(o.allowed_hosts.begin(), o.allowed_hosts.end(), name) != o.allowed_hosts.end()) {
    return true;
  }
  Poco::Net::IPAddress ip;
  return Poco::Net::IPAddress::tryParse(name, ip);
}

bool cors_allowed(const std::string& origin, const ServerOptions& o) {
  return std::find(o.cors_origins.begin(), o.cors_origins.end(), origin) != o.cors_origins.end();
}

// Same origin = the Origin header names the host the request was sent to.
bool same_origin(const std::string& origin, const std::string& host) {
  return origin == "http://" + host || origin == "https://" + host;
}

class Dispatcher : public Poco::Net::HTTPRequestHandler {
 public:
  explicit Dispatcher(Api& api) : api_(api) {}

  void handleRequest(Poco::Net::HTTPServerRequest& request,
                     Poco::Net::HTTPServerResponse& response) override {
    ++api_.http_requests;
    std::string path;
    std::map<std::string, std::string> query;
    try {
      Poco::URI uri(request.getURI());
      path = uri.getPath();
      for (auto& [k, v] : uri.getQueryParameters()) query[k] = v;
    } catch (const std::exception&) {
      path.clear();
    }
    HttpContext ctx(request, response, path, std::move(query));
    try {
      dispatch(ctx, request);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "smolbot: %s %s: %s\n", request.getMethod().c_str(), path.c_str(),
                   e.what());
      if (!ctx.responded()) ctx.send_error(500, "server_error", "internal error");
    } catch (...) {
      if (!ctx.responded()) ctx.send_error(500, "server_error", "internal error");
    }
    if (response.getStatus() >= 400) ++api_.http_errors;
  }

 private:
  void dispatch(HttpContext& ctx, Poco::Net::HTTPServerRequest& request) {
    const ServerOptions& o = api_.options;
    ctx.set_header("X-Content-Type-Options", "nosniff");
    ctx.set_header("Referrer-Policy", "no-referrer");
    if (ctx.path().empty() || ctx.path()[0] != '/') {
      return ctx.send_error(400, "invalid_request_error", "malformed request target");
    }
    if (!host_allowed(request.getHost(), o)) {
      return ctx.send_error(403, "forbidden_error", "Host header not allowed");
    }
    const std::string origin = ctx.header("Origin");
    const bool cors = !origin.empty() && cors_allowed(origin, o);
    if (cors) {
      ctx.set_header("Access-Control-Allow-Origin", origin);
      ctx.set_header("Vary", "Origin");
    }
    if (ctx.method() == "OPTIONS") return preflight(ctx, cors);
    if (is_state_changing(ctx.method()) && !origin.empty() && !cors &&
        !same_origin(origin, request.getHost())) {
      return ctx.send_error(403, "forbidden_error", "cross-site request refused (Origin)");
    }
    if (is_state_changing(ctx.method()) && origin.empty() &&
        ctx.header("Sec-Fetch-Site") == "cross-site") {
      return ctx.send_error(403, "forbidden_error", "cross-site request refused");
    }
    const Route* route = nullptr;
    bool path_known = false;
    for (const auto& r : routes()) {
      if (!match_route(r.pattern, ctx.path(), ctx.params())) continue;
      path_known = true;
      if (ctx.method() == r.method) {
        route = &r;
        break;
      }
    }
    if (!route) {
      if (path_known) return ctx.send_error(405, "invalid_request_error", "method not allowed");
      if (ctx.method() == "GET" || ctx.method() == "HEAD") return static_file(ctx, api_);
      return ctx.send_error(404, "not_found_error", "no route " + ctx.path());
    }
    if (route->needs_key && !o.api_key.empty() &&
        ctx.header("Authorization") != "Bearer " + o.api_key) {
      ctx.set_header("WWW-Authenticate", "Bearer");
      return ctx.send_error(401, "authentication_error", "missing or wrong API key");
    }
    if (!read_body(ctx, request)) return;
    route->handler(ctx, api_);
  }

  void preflight(HttpContext& ctx, bool cors) {
    if (!cors) return ctx.send_error(403, "forbidden_error", "CORS is not enabled for this origin");
    ctx.set_header("Access-Control-Allow-Methods", "GET, POST, PATCH, DELETE, OPTIONS");
    ctx.set_header("Access-Control-Allow-Headers", "Authorization, Content-Type, Last-Event-ID");
    ctx.set_header("Access-Control-Max-Age", "600");
    ctx.send_empty(204);
  }

  bool read_body(HttpContext& ctx, Poco::Net::HTTPServerRequest& request) {
    const size_t limit = api_.options.max_body_bytes;
    if (request.hasContentLength() && request.getContentLength64() > static_cast<int64_t>(limit)) {
      // Drain a moderately oversized body so the client can read the answer instead of a reset;
      // beyond that, answer and drop the connection.
      if (request.getContentLength64() <= static_cast<int64_t>(kMaxDrainBytes)) {
        request.stream().ignore(std::numeric_limits<std::streamsize>::max());
      }
      ctx.set_keep_alive(false);
      ctx.send_error(413, "invalid_request_error",
                     "request body too large (limit " + std::to_string(limit) + " bytes)");
      return false;
    }
    std::string body;
    std::istream& in = request.stream();
    char buf[8192];
    while (in.read(buf, sizeof buf) || in.gcount() > 0) {
      body.append(buf, static_cast<size_t>(in.gcount()));
      if (body.size() > limit) {
        ctx.set_keep_alive(false);
        ctx.send_error(413, "invalid_request_error",
                       "request body too large (limit " + std::to_string(limit) + " bytes)");
        return false;
      }
    }
    ctx.set_body(std::move(body));
    return true;
  }

  Api& api_;
};

class Factory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  explicit Factory(Api& api) : api_(api) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(
      const Poco::Net::HTTPServerRequest&) override {
    return new Dispatcher(api_);
  }

 private:
  Api& api_;
};

}  // namespace

struct Server::Impl {
  Api api;
  std::unique_ptr<Poco::ThreadPool> pool;
  std::unique_ptr<Poco::Net::HTTPServer> http;
  int port = 0;
  bool stopped = false;
};

Server::Server() : impl_(std::make_unique<Impl>()) {}

Server::~Server() { stop(); }

Result<std::unique_ptr<Server>> Server::start(const ServerOptions& options,
                                              std::shared_ptr<ChatService> service) {
  // A client that vanishes mid-stream must cost a failed write, not the process.
  std::signal(SIGPIPE, SIG_IGN);
  std::unique_ptr<Server> server(new Server());
  Impl& s = *server->impl_;
  s.api.service = std::move(service);
  s.api.options = options;
  try {
    Poco::Net::ServerSocket socket;
    socket.bind(Poco::Net::SocketAddress(options.host, static_cast<uint16_t>(options.port)), true);
    socket.listen(128);
    s.port = socket.address().port();
    auto params = new Poco::Net::HTTPServerParams();
    params->setMaxThreads(options.max_threads);
    params->setMaxQueued(256);
    params->setKeepAlive(true);
    params->setTimeout(Poco::Timespan(30, 0));
    s.pool = std::make_unique<Poco::ThreadPool>(2, options.max_threads + 4);
    s.http = std::make_unique<Poco::Net::HTTPServer>(new Factory(s.api), *s.pool, socket, params);
    s.http->start();
  } catch (const Poco::Exception& e) {
    return Error{"cannot listen on " + options.host + ":" + std::to_string(options.port) + ": " +
                 e.displayText()};
  }
  return server;
}

int Server::port() const { return impl_->port; }

std::string Server::url() const {
  const std::string& h = impl_->api.options.host;
  std::string host = h.find(':') != std::string::npos ? "[" + h + "]" : h;
  return "http://" + host + ":" + std::to_string(impl_->port) + "/";
}

void Server::stop() {
  if (impl_->stopped) return;
  impl_->stopped = true;
  impl_->api.stopping = true;  // ends SSE loops within one wait period
  if (impl_->http) impl_->http->stopAll(true);
  if (impl_->pool) impl_->pool->joinAll();
}

}  // namespace smol::net
