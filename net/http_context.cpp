#include "http_context.h"

#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/StreamSocket.h>

#include "text_utils.h"

namespace smol::net {

Poco::Net::HTTPResponse::HTTPStatus to_status(int code) {
  return static_cast<Poco::Net::HTTPResponse::HTTPStatus>(code);
}

HttpContext::HttpContext(Poco::Net::HTTPServerRequest& request,
                         Poco::Net::HTTPServerResponse& response, std::string path,
                         std::map<std::string, std::string> query)
    : request_(request), response_(response), path_(std::move(path)), query_(std::move(query)) {}

std::string HttpContext::param(const std::string& name) const {
  auto it = params_.find(name);
  return it == params_.end() ? "" : it->second;
}

std::string HttpContext::query(const std::string& name) const {
  auto it = query_.find(name);
  return it == query_.end() ? "" : it->second;
}

std::string HttpContext::header(const std::string& name) const { return request_.get(name, ""); }

std::optional<json> HttpContext::json_body(bool allow_empty) {
  if (body_.empty() && allow_empty) return json::object();
  if (!is_valid_utf8(body_)) {
    send_error(400, "invalid_request_error", "request body is not valid UTF-8");
    return std::nullopt;
  }
  json j;
  try {
    j = json::parse(body_);
  } catch (const json::parse_error& e) {
    send_error(400, "invalid_request_error",
               "request body is not valid JSON (at byte " + std::to_string(e.byte) + ")");
    return std::nullopt;
  }
  if (!j.is_object()) {
    send_error(400, "invalid_request_error", "request body must be a JSON object");
    return std::nullopt;
  }
  return j;
}

void HttpContext::before_send() {
  if (body_consumed_) return;
  bool has_body = request_.hasContentLength() ? request_.getContentLength64() > 0
                                              : request_.getChunkedTransferEncoding();
  if (has_body) response_.setKeepAlive(false);
}

void HttpContext::send_text(int status, const std::string& content_type, const std::string& body) {
  before_send();
  response_.setStatusAndReason(to_status(status));
  response_.setContentType(content_type);
  response_.setContentLength(static_cast<std::streamsize>(body.size()));
  responded_ = true;
  response_.send() << body;
}

void HttpContext::send_json(int status, const json& value) {
  // Replace rather than throw on stray invalid UTF-8: handlers never throw.
  send_text(status, "application/json", value.dump(-1, ' ', false, json::error_handler_t::replace));
}

void HttpContext::send_error(int status, const std::string& type, const std::string& message) {
  send_json(status, json{{"error", {{"message", message}, {"type", type}, {"code", status}}}});
}

void HttpContext::send_empty(int status) {
  before_send();
  response_.setStatusAndReason(to_status(status));
  response_.setContentLength(0);
  responded_ = true;
  response_.send();
}

void HttpContext::set_header(const std::string& name, const std::string& value) {
  response_.set(name, value);
}

void HttpContext::begin_sse() {
  before_send();
  response_.setStatusAndReason(Poco::Net::HTTPResponse::HTTP_OK);
  response_.setContentType("text/event-stream; charset=utf-8");
  response_.set("Cache-Control", "no-cache");
  response_.set("X-Accel-Buffering", "no");
  response_.setChunkedTransferEncoding(true);
  responded_ = true;
  sse_ = &response_.send();
  sse_->flush();
}

bool HttpContext::write(const std::string& chunk) {
  if (!sse_ || !sse_->good()) return false;
  *sse_ << chunk;
  sse_->flush();
  return sse_->good();
}

bool HttpContext::sse_event(const std::string& id, const std::string& type,
                            const std::string& data) {
  // data is one-line JSON, so a single "data:" field suffices.
  return write("id: " + id + "\nevent: " + type + "\ndata: " + data + "\n\n");
}

bool HttpContext::sse_data(const std::string& data) { return write("data: " + data + "\n\n"); }

bool HttpContext::sse_comment(const std::string& text) { return write(": " + text + "\n\n"); }

bool HttpContext::client_gone() {
  auto* impl = dynamic_cast<Poco::Net::HTTPServerRequestImpl*>(&request_);
  if (!impl) return false;
  try {
    Poco::Net::StreamSocket& socket = impl->socket();
    if (!socket.poll(Poco::Timespan(0),
                     Poco::Net::Socket::SELECT_READ | Poco::Net::Socket::SELECT_ERROR)) {
      return false;
    }
    // Readable with nothing to read is an orderly close by the peer.
    return socket.available() <= 0;
  } catch (...) {
    return true;
  }
}

}  // namespace smol::net
