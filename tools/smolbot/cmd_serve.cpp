// smolbot serve: the HTTP server (native session API, OpenAI-compatible API, web UI).
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>

#include "args.h"
#include "command.h"
#include "smol/chat_service.h"
#include "smol/engine_backend.h"
#include "smol/server.h"

namespace {

constexpr const char* kUsage =
    "usage: smolbot serve --model F [--host 127.0.0.1] [--port 8080] [--data-dir DIR]\n"
    "                     [--threads N] [--ctx N] [--api-key KEY] [--max-sessions N]\n"
    "                     [--slots N] [--max-queue N] [--www DIR] [--cors-origin URL]\n"
    "                     [--allowed-host NAME]\n"
    "Each option may also come from the environment: SMOL_MODEL, SMOL_HOST, PORT (or\n"
    "SMOL_PORT), SMOL_DATA_DIR, SMOL_THREADS, SMOL_CTX, SMOL_API_KEY, SMOL_MAX_SESSIONS,\n"
    "SMOL_SLOTS, SMOL_MAX_QUEUE, SMOL_WWW_DIR, SMOL_CORS_ORIGIN, SMOL_ALLOWED_HOST.\n"
    "Binds to loopback unless --host says otherwise; --port 0 picks a free port. The bound URL\n"
    "is printed once listening; /health answers 503 until the model is loaded.\n";

// Command line first, then the environment, then the default.
std::string option(const smolbot::Args& args, const char* flag, const char* env,
                   const char* fallback, const char* env2 = nullptr) {
  if (auto v = args.get(flag)) return *v;
  if (const char* e = std::getenv(env); e && *e) return e;
  if (env2) {
    if (const char* e = std::getenv(env2); e && *e) return e;
  }
  return fallback;
}

// $XDG_DATA_HOME/smolbot, else ~/.local/share/smolbot, else ./data: never inside the checkout.
std::string default_data_dir() {
  if (const char* x = std::getenv("XDG_DATA_HOME"); x && *x) return std::string(x) + "/smolbot";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.local/share/smolbot";
  return "data";
}

bool to_int(const std::string& text, const char* what, int lo, int hi, int& out) {
  char* end = nullptr;
  long v = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || v < lo || v > hi) {
    std::fprintf(stderr, "smolbot serve: %s must be an integer in [%d, %d], got '%s'\n", what, lo,
                 hi, text.c_str());
    return false;
  }
  out = static_cast<int>(v);
  return true;
}

int run_serve(int argc, char** argv) {
  auto args = smolbot::Args::parse(
      argc, argv,
      {"--model", "--host", "--port", "--data-dir", "--threads", "--ctx", "--api-key",
       "--max-sessions", "--slots", "--max-queue", "--www", "--cors-origin", "--allowed-host"},
      {"--help"}, {{"-m", "--model"}, {"-t", "--threads"}, {"-c", "--ctx"}});
  if (!args.ok()) {
    std::fprintf(stderr, "smolbot serve: %s\n%s", args.error().c_str(), kUsage);
    return 2;
  }
  if (args->has("--help")) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  smol::net::EngineBackendOptions engine;
  engine.model_path = option(*args, "--model", "SMOL_MODEL", "");
  if (engine.model_path.empty()) {
    std::fprintf(stderr, "smolbot serve: --model (or SMOL_MODEL) is required\n%s", kUsage);
    return 2;
  }
  smol::net::ServerOptions server;
  smol::net::ServiceOptions service;
  server.host = option(*args, "--host", "SMOL_HOST", "127.0.0.1");
  server.www_dir = option(*args, "--www", "SMOL_WWW_DIR", "www");
  server.api_key = option(*args, "--api-key", "SMOL_API_KEY", "");
  if (auto o = option(*args, "--cors-origin", "SMOL_CORS_ORIGIN", ""); !o.empty()) {
    server.cors_origins.push_back(o);
  }
  if (auto h = option(*args, "--allowed-host", "SMOL_ALLOWED_HOST", ""); !h.empty()) {
    server.allowed_hosts.push_back(h);
  }
  service.data_dir = option(*args, "--data-dir", "SMOL_DATA_DIR", default_data_dir().c_str());
  if (!to_int(option(*args, "--port", "PORT", "8080", "SMOL_PORT"), "--port", 0, 65535,
              server.port) ||
      !to_int(option(*args, "--threads", "SMOL_THREADS", "0"), "--threads", 0, 1024,
              engine.n_threads) ||
      !to_int(option(*args, "--ctx", "SMOL_CTX", "4096"), "--ctx", 16, 1 << 20, engine.n_ctx) ||
      !to_int(option(*args, "--max-sessions", "SMOL_MAX_SESSIONS", "1000"), "--max-sessions", 1,
              1 << 24, service.max_sessions) ||
      !to_int(option(*args, "--slots", "SMOL_SLOTS", "0"), "--slots", 0, 16, engine.n_slots) ||
      !to_int(option(*args, "--max-queue", "SMOL_MAX_QUEUE", "64"), "--max-queue", 1, 100000,
              service.max_queue)) {
    return 2;
  }

  // Signals are taken synchronously by this thread; block them before any thread starts.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  auto svc = smol::net::ChatService::create(
      service, [engine] { return smol::net::load_engine_backend(engine); });
  if (!svc.ok()) {
    std::fprintf(stderr, "smolbot serve: %s\n", svc.error().c_str());
    return 1;
  }
  std::shared_ptr<smol::net::ChatService> shared(std::move(svc).value());
  auto http = smol::net::Server::start(server, shared);
  if (!http.ok()) {
    std::fprintf(stderr, "smolbot serve: %s\n", http.error().c_str());
    return 1;
  }
  std::printf("smolbot: listening on %s (data in %s); loading %s\n", (*http)->url().c_str(),
              service.data_dir.c_str(), engine.model_path.c_str());
  std::fflush(stdout);

  bool announced = false;
  for (;;) {
    timespec tick{0, 200'000'000};
    if (sigtimedwait(&stop_signals, nullptr, &tick) > 0) break;
    if (!announced && shared->ready()) {
      announced = true;
      const auto& info = shared->info();
      std::printf("smolbot: model ready: %s (n_ctx %d, %d slots)\n", info.model_name.c_str(),
                  info.n_ctx, info.n_slots);
      std::fflush(stdout);
    }
    if (!announced && !shared->load_error().empty()) {
      std::fprintf(stderr, "smolbot serve: %s\n", shared->load_error().c_str());
      return 1;
    }
  }
  std::printf("smolbot: shutting down\n");
  std::fflush(stdout);
  (*http)->stop();
  return 0;
}

}  // namespace

SMOLBOT_COMMAND("serve", "HTTP chat server: web UI, session API, OpenAI-compatible API", run_serve);
