// A small blocking HTTP/SSE client over POCO for the server tests (loopback only).
#pragma once

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>

#include <functional>
#include <istream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace smol::net::testing {

using nlohmann::json;

struct HttpResult {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;
  json json_body() const { return json::parse(body, nullptr, false); }
};

struct SseEvent {
  std::string id, type, data;  // type "" = unnamed (OpenAI framing)
};

class Client {
 public:
  explicit Client(int port) : port_(port) {}

  HttpResult request(const std::string& method, const std::string& path,
                     const std::string& body = "",
                     const std::map<std::string, std::string>& headers = {}) {
    Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<uint16_t>(port_));
    session.setTimeout(Poco::Timespan(60, 0));
    Poco::Net::HTTPRequest req(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
    for (const auto& [k, v] : headers) req.set(k, v);
    if (!body.empty() || method == "POST" || method == "PATCH") {
      req.setContentType("application/json");
      req.setContentLength(static_cast<std::streamsize>(body.size()));
    }
    session.sendRequest(req) << body;
    Poco::Net::HTTPResponse resp;
    std::istream& in = session.receiveResponse(resp);
    HttpResult r;
    r.status = resp.getStatus();
    for (const auto& [k, v] : resp) r.headers[k] = v;
    Poco::StreamCopier::copyToString(in, r.body);
    return r;
  }

  HttpResult post(const std::string& path, const json& body,
                  const std::map<std::string, std::string>& headers = {}) {
    return request("POST", path, body.dump(), headers);
  }
  HttpResult get(const std::string& path, const std::map<std::string, std::string>& headers = {}) {
    return request("GET", path, "", headers);
  }

  // Reads an SSE stream, calling on_event for each event; stops when it returns false (the
  // connection is then closed at once) or the stream ends. Comments are counted.
  int stream(const std::string& method, const std::string& path, const std::string& body,
             const std::map<std::string, std::string>& headers,
             const std::function<bool(const SseEvent&)>& on_event, int* comments = nullptr) {
    Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<uint16_t>(port_));
    session.setTimeout(Poco::Timespan(60, 0));
    Poco::Net::HTTPRequest req(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
    for (const auto& [k, v] : headers) req.set(k, v);
    if (method == "POST") {
      req.setContentType("application/json");
      req.setContentLength(static_cast<std::streamsize>(body.size()));
    }
    session.sendRequest(req) << body;
    Poco::Net::HTTPResponse resp;
    std::istream& in = session.receiveResponse(resp);
    last_content_type_ = resp.getContentType();
    if (resp.getStatus() != 200) {
      Poco::StreamCopier::copyToString(in, last_error_body_);
      return resp.getStatus();
    }
    SseEvent ev;
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty()) {
        if (!ev.data.empty() || !ev.type.empty()) {
          if (!on_event(ev)) {
            session.abort();  // the client vanishes mid-stream
            return 200;
          }
        }
        ev = SseEvent{};
        continue;
      }
      if (line[0] == ':') {
        if (comments) ++*comments;
        continue;
      }
      size_t colon = line.find(':');
      std::string field = line.substr(0, colon);
      std::string value = colon == std::string::npos ? "" : line.substr(colon + 1);
      if (!value.empty() && value[0] == ' ') value.erase(0, 1);
      if (field == "id") ev.id = value;
      if (field == "event") ev.type = value;
      if (field == "data") ev.data += value;
    }
    return 200;
  }

  const std::string& last_content_type() const { return last_content_type_; }
  const std::string& last_error_body() const { return last_error_body_; }

 private:
  int port_;
  std::string last_content_type_;
  std::string last_error_body_;
};

}  // namespace smol::net::testing
