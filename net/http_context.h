// http_context.h (private) — one HTTP exchange as the route handlers see it.
//
// Wraps the POCO request/response so handlers stay short: typed JSON in, JSON or SSE out, and
// the error shape {"error":{"message","type","code"}} in one place. SSE writes report a vanished
// client by returning false; client_gone() notices a closed connection without writing.
#pragma once

#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>

#include "smol/chat_service.h"
#include "smol/server.h"

namespace smol::net {

using nlohmann::json;

class HttpContext {
 public:
  HttpContext(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response,
              std::string path, std::map<std::string, std::string> query);

  const std::string& method() const { return request_.getMethod(); }
  const std::string& path() const { return path_; }
  std::string param(const std::string& name) const;  // from the route pattern ({id})
  std::string query(const std::string& name) const;
  std::string header(const std::string& name) const;
  std::map<std::string, std::string>& params() { return params_; }

  void set_body(std::string body) {
    body_ = std::move(body);
    body_consumed_ = true;
  }
  const std::string& body() const { return body_; }
  // The body as a JSON object; on failure answers 400 (saying why and where) and returns nullopt.
  std::optional<json> json_body(bool allow_empty = false);

  void send_json(int status, const json& value);
  void send_error(int status, const std::string& type, const std::string& message);
  void send_error(const ServiceError& e) { send_error(e.code, e.type, e.message); }
  void send_text(int status, const std::string& content_type, const std::string& body);
  void send_empty(int status);
  void set_header(const std::string& name, const std::string& value);
  void set_keep_alive(bool keep_alive) { response_.setKeepAlive(keep_alive); }
  bool responded() const { return responded_; }

  // Server-sent events. begin_sse() sends the headers; each write flushes.
  void begin_sse();
  bool sse_event(const std::string& id, const std::string& type, const std::string& data);
  bool sse_data(const std::string& data);  // OpenAI framing: "data: ...\n\n"
  bool sse_comment(const std::string& text);
  // True when the peer closed its side (checked without blocking).
  bool client_gone();

 private:
  bool write(const std::string& chunk);
  // An answer sent before the body was read must close the connection: the unread body would
  // otherwise be parsed as the next request.
  void before_send();

  Poco::Net::HTTPServerRequest& request_;
  Poco::Net::HTTPServerResponse& response_;
  std::string path_;
  std::map<std::string, std::string> query_;
  std::map<std::string, std::string> params_;
  std::string body_;
  std::ostream* sse_ = nullptr;
  bool responded_ = false;
  bool body_consumed_ = false;
};

// "502" -> the reason phrase used on the status line.
Poco::Net::HTTPResponse::HTTPStatus to_status(int code);

}  // namespace smol::net
