// Starts a ChatService + Server in-process on an ephemeral loopback port, with a data dir that
// survives restart() (to test persistence), and waits for the backend to load.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <random>
#include <thread>

#include "http_client.h"
#include "smol/chat_service.h"
#include "smol/server.h"

namespace smol::net::testing {

inline std::string fresh_temp_dir(const std::string& tag) {
  std::random_device rd;
  auto dir = std::filesystem::temp_directory_path() /
             ("smol-net-" + tag + "-" + std::to_string(rd()) + std::to_string(rd()));
  std::filesystem::create_directories(dir);
  return dir.string();
}

class ServerHarness {
 public:
  ServerHarness(BackendFactory factory, ServerOptions server = {}, ServiceOptions service = {})
      : factory_(std::move(factory)), server_options_(server), service_options_(service) {
    server_options_.host = "127.0.0.1";
    server_options_.port = 0;
    if (service_options_.data_dir.empty()) service_options_.data_dir = fresh_temp_dir("data");
  }
  ~ServerHarness() {
    stop();
    std::error_code ec;
    std::filesystem::remove_all(service_options_.data_dir, ec);
  }

  // Returns "" or what went wrong.
  std::string start(bool wait_ready = true) {
    auto svc = ChatService::create(service_options_, factory_);
    if (!svc.ok()) return svc.error();
    service_ = std::move(svc).value();
    auto srv = Server::start(server_options_, service_);
    if (!srv.ok()) return srv.error();
    server_ = std::move(srv).value();
    client_ = std::make_unique<Client>(server_->port());
    if (!wait_ready) return "";
    for (int i = 0; i < 6000 && !service_->ready(); ++i) {
      if (!service_->load_error().empty()) return service_->load_error();
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return service_->ready() ? "" : "backend did not load within 60 s";
  }
  void stop() {
    server_.reset();
    service_.reset();
  }
  std::string restart() {
    stop();
    return start();
  }

  Client& client() { return *client_; }
  ChatService& service() { return *service_; }
  int port() const { return server_->port(); }

 private:
  BackendFactory factory_;
  ServerOptions server_options_;
  ServiceOptions service_options_;
  std::shared_ptr<ChatService> service_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<Client> client_;
};

// Polls `cond` for up to `seconds`.
template <typename F>
bool eventually(F cond, double seconds = 10) {
  auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return cond();
}

}  // namespace smol::net::testing
