#include "smol/chat_service.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>

#include "engine_worker.h"
#include "settings_json.h"
#include "store.h"
#include "text_utils.h"

namespace smol::net {

using nlohmann::json;

namespace {

constexpr const char* kDefaultTitle = "New chat";
constexpr size_t kAutoTitleBytes = 60;

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string random_id(size_t hex_chars) {
  static std::mutex mu;
  static std::mt19937_64 rng{std::random_device{}()};
  std::lock_guard lock(mu);
  static const char* kHex = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < hex_chars; ++i) s += kHex[rng() & 15];
  return s;
}

std::string status_of(const std::string& finish_reason) {
  if (finish_reason == "cancelled") return "stopped";
  if (finish_reason == "length") return "length";
  return "complete";
}

std::string stats_json(const GenerationStats& s) {
  return json{{"prompt_tokens", s.prompt_tokens},       {"cached_tokens", s.cached_tokens},
              {"generated_tokens", s.generated_tokens}, {"ttft_ms", s.ttft_ms},
              {"tokens_per_s", s.tokens_per_s},         {"finish_reason", s.finish_reason}}
      .dump();
}

template <typename T>
Outcome<T> ok(T value) {
  return Outcome<T>{std::move(value), {}};
}

template <typename T>
Outcome<T> store_failure(const std::string& message) {
  std::fprintf(stderr, "smolbot: %s\n", message.c_str());
  return Outcome<T>::fail(500, "server_error", message);
}

}  // namespace

struct ChatService::Impl {
  ServiceOptions options;
  std::unique_ptr<Store> store;
  std::unique_ptr<EngineWorker> worker;
  std::mutex mu;  // guards `generations` and serializes session-changing operations
  std::map<std::string, std::shared_ptr<Generation>> generations;  // session id -> latest

  void on_finished(Generation& generation, const GenerationStats& stats);
  Outcome<std::shared_ptr<Generation>> start(const Session& session);
  Outcome<Session> session_to_start(const std::string& id);
  // logit_bias ids checked against the loaded vocabulary. Before the model is loaded nothing is
  // known, and the sampler skips ids outside its vocabulary.
  std::string vocab_problem(const Sampling& s) const {
    return worker->ready() ? check_logit_bias(s, worker->info().n_vocab) : "";
  }
  bool busy(const std::string& session_id) const {
    auto it = generations.find(session_id);
    return it != generations.end() && !it->second->finished();
  }
};

ChatService::ChatService() : impl_(std::make_unique<Impl>()) {}

ChatService::~ChatService() {
  // The worker goes first: it may still call on_finished, which uses the store.
  impl_->worker.reset();
}

Result<std::unique_ptr<ChatService>> ChatService::create(ServiceOptions options,
                                                         BackendFactory factory) {
  std::unique_ptr<ChatService> service(new ChatService());
  auto store = Store::open(options.data_dir);
  if (!store.ok()) return Error{store.error()};
  service->impl_->options = std::move(options);
  service->impl_->store = std::move(store).value();
  Impl* impl = service->impl_.get();
  service->impl_->worker = std::make_unique<EngineWorker>(
      std::move(factory), service->impl_->options.max_queue,
      [impl](Generation& g, const GenerationStats& s) { impl->on_finished(g, s); });
  return service;
}

bool ChatService::ready() const { return impl_->worker->ready(); }
std::string ChatService::load_error() const { return impl_->worker->load_error(); }
const BackendInfo& ChatService::info() const { return impl_->worker->info(); }
Metrics ChatService::metrics() const { return impl_->worker->metrics(); }

// Persists the answer of a session generation (runs on the worker thread).
void ChatService::Impl::on_finished(Generation& generation, const GenerationStats& stats) {
  const std::string& sid = generation.request().session_id;
  if (sid.empty()) return;
  auto r = generation.result();
  if (stats.finish_reason == "cancelled" && r.content.empty() && r.reasoning.empty()) return;
  StoredMessage m;
  m.role = "assistant";
  m.content = r.content;
  m.reasoning = r.reasoning;
  m.tool_calls_json = r.tool_calls_json == "[]" ? "" : r.tool_calls_json;
  m.status = status_of(stats.finish_reason);
  m.stats_json = stats_json(stats);
  auto id = store->append_message(sid, m);
  // A session deleted mid-generation has nowhere to keep its answer; that is not an error.
  if (!id.ok()) std::fprintf(stderr, "smolbot: answer not stored: %s\n", id.error().c_str());
}

Outcome<Session> ChatService::create_session(const std::string& title,
                                             const SessionSettings& settings) {
  if (auto err = impl_->vocab_problem(settings.sampling); !err.empty()) {
    return Outcome<Session>::fail(400, "invalid_request_error", err);
  }
  std::lock_guard lock(impl_->mu);
  auto n = impl_->store->count_sessions();
  if (!n.ok()) return store_failure<Session>(n.error());
  if (*n >= impl_->options.max_sessions) {
    return Outcome<Session>::fail(
        409, "limit_error",
        "session limit reached (" + std::to_string(impl_->options.max_sessions) + ")");
  }
  Session s;
  s.id = random_id(16);
  s.title = title.empty() ? kDefaultTitle : title;
  s.settings = settings;
  s.created_ms = s.updated_ms = now_ms();
  if (auto st = impl_->store->create_session(s); !st.ok())
    return store_failure<Session>(st.error());
  return ok(std::move(s));
}

Outcome<std::vector<Session>> ChatService::list_sessions() {
  auto all = impl_->store->list_sessions();
  if (!all.ok()) return store_failure<std::vector<Session>>(all.error());
  std::lock_guard lock(impl_->mu);
  for (auto& s : *all) s.generating = impl_->busy(s.id);
  return ok(std::move(all).value());
}

Outcome<Session> ChatService::get_session(const std::string& id) {
  auto s = impl_->store->get_session(id, true);
  if (!s.ok()) return store_failure<Session>(s.error());
  if (!s->has_value()) return Outcome<Session>::fail(404, "not_found_error", "no session " + id);
  Session out = std::move(**s);
  std::lock_guard lock(impl_->mu);
  auto it = impl_->generations.find(id);
  if (it != impl_->generations.end()) {
    out.generation_id = it->second->id();
    out.generating = !it->second->finished();
  }
  return ok(std::move(out));
}

Outcome<Session> ChatService::patch_session(const std::string& id, const SessionPatch& patch) {
  std::lock_guard lock(impl_->mu);
  auto s = impl_->store->get_session(id, false);
  if (!s.ok()) return store_failure<Session>(s.error());
  if (!s->has_value()) return Outcome<Session>::fail(404, "not_found_error", "no session " + id);
  Session out = std::move(**s);
  if (patch.title) out.title = *patch.title;
  if (patch.system_prompt) out.settings.system_prompt = *patch.system_prompt;
  if (patch.thinking) out.settings.thinking = *patch.thinking;
  if (patch.sampling) {
    if (auto err = impl_->vocab_problem(*patch.sampling); !err.empty()) {
      return Outcome<Session>::fail(400, "invalid_request_error", err);
    }
    out.settings.sampling = *patch.sampling;
  }
  if (patch.max_tokens) out.settings.max_tokens = *patch.max_tokens;
  out.updated_ms = now_ms();
  if (auto st = impl_->store->update_session(out); !st.ok())
    return store_failure<Session>(st.error());
  return ok(std::move(out));
}

Outcome<bool> ChatService::delete_session(const std::string& id) {
  std::lock_guard lock(impl_->mu);
  auto s = impl_->store->get_session(id, false);
  if (!s.ok()) return store_failure<bool>(s.error());
  if (!s->has_value()) return Outcome<bool>::fail(404, "not_found_error", "no session " + id);
  if (auto it = impl_->generations.find(id); it != impl_->generations.end()) {
    it->second->cancel();
    impl_->generations.erase(it);
  }
  if (auto st = impl_->store->delete_session(id); !st.ok()) return store_failure<bool>(st.error());
  return ok(true);
}

// A session about to start a generation, with its messages: it exists, is idle, and its
// sampling settings fit the loaded vocabulary. Caller holds `mu`.
Outcome<Session> ChatService::Impl::session_to_start(const std::string& id) {
  auto s = store->get_session(id, true);
  if (!s.ok()) return store_failure<Session>(s.error());
  if (!s->has_value()) return Outcome<Session>::fail(404, "not_found_error", "no session " + id);
  if (busy(id)) {
    return Outcome<Session>::fail(409, "conflict_error",
                                  "the session is already generating; stop it first");
  }
  if (auto err = vocab_problem((*s)->settings.sampling); !err.empty()) {
    return Outcome<Session>::fail(400, "invalid_request_error", err);
  }
  return ok(std::move(**s));
}

// Builds the request from the stored history and queues it. Caller holds `mu`.
Outcome<std::shared_ptr<Generation>> ChatService::Impl::start(const Session& session) {
  GenerationRequest req;
  req.session_id = session.id;
  if (!session.settings.system_prompt.empty()) {
    req.messages.push_back(Message{"system", session.settings.system_prompt, "", ""});
  }
  for (const auto& m : session.messages) {
    req.messages.push_back(Message{m.role, m.content, m.reasoning, m.tool_calls_json});
  }
  req.prompt.enable_thinking = session.settings.thinking;
  req.sampling = session.settings.sampling;
  req.max_tokens = std::clamp(session.settings.max_tokens, 1, options.max_tokens_limit);
  auto gen = std::make_shared<Generation>("gen-" + random_id(12), std::move(req));
  if (!worker->submit(gen)) {
    return Outcome<std::shared_ptr<Generation>>::fail(503, "unavailable_error",
                                                      "server busy: generation queue is full");
  }
  generations[session.id] = gen;
  return ok(gen);
}

Outcome<std::shared_ptr<Generation>> ChatService::post_message(const std::string& session_id,
                                                               const std::string& content) {
  using Out = Outcome<std::shared_ptr<Generation>>;
  if (content.size() > impl_->options.max_message_bytes) {
    return Out::fail(413, "invalid_request_error",
                     "message too long: " + std::to_string(content.size()) + " bytes, limit " +
                         std::to_string(impl_->options.max_message_bytes));
  }
  std::lock_guard lock(impl_->mu);
  auto loaded = impl_->session_to_start(session_id);
  if (!loaded.ok()) return Out{std::nullopt, loaded.error};
  Session session = std::move(*loaded.value);
  if (static_cast<int>(session.messages.size()) + 2 > impl_->options.max_messages_per_session) {
    return Out::fail(409, "limit_error", "message limit of this session reached");
  }
  StoredMessage m{0, "user", content, "", "", "complete", "", now_ms()};
  auto id = impl_->store->append_message(session_id, m);
  if (!id.ok()) return store_failure<std::shared_ptr<Generation>>(id.error());
  m.id = *id;
  if (session.messages.empty() && session.title == kDefaultTitle && !content.empty()) {
    session.title = truncate_utf8(content, kAutoTitleBytes);
    session.updated_ms = now_ms();
    (void)impl_->store->update_session(session);
  }
  session.messages.push_back(m);
  return impl_->start(session);
}

Outcome<std::shared_ptr<Generation>> ChatService::regenerate(const std::string& session_id) {
  using Out = Outcome<std::shared_ptr<Generation>>;
  std::lock_guard lock(impl_->mu);
  auto loaded = impl_->session_to_start(session_id);
  if (!loaded.ok()) return Out{std::nullopt, loaded.error};
  Session session = std::move(*loaded.value);
  auto last_user = std::find_if(session.messages.rbegin(), session.messages.rend(),
                                [](const StoredMessage& m) { return m.role == "user"; });
  if (last_user == session.messages.rend()) {
    return Out::fail(400, "invalid_request_error", "nothing to regenerate: no user message");
  }
  int64_t keep = last_user->id;
  if (auto st = impl_->store->truncate_after(session_id, keep); !st.ok()) {
    return store_failure<std::shared_ptr<Generation>>(st.error());
  }
  std::erase_if(session.messages, [&](const StoredMessage& m) { return m.id > keep; });
  return impl_->start(session);
}

Outcome<std::shared_ptr<Generation>> ChatService::edit_message(const std::string& session_id,
                                                               int64_t message_id,
                                                               const std::string& content) {
  using Out = Outcome<std::shared_ptr<Generation>>;
  if (content.size() > impl_->options.max_message_bytes) {
    return Out::fail(413, "invalid_request_error", "message too long");
  }
  std::lock_guard lock(impl_->mu);
  auto loaded = impl_->session_to_start(session_id);
  if (!loaded.ok()) return Out{std::nullopt, loaded.error};
  Session session = std::move(*loaded.value);
  auto it = std::find_if(session.messages.begin(), session.messages.end(),
                         [&](const StoredMessage& m) { return m.id == message_id; });
  if (it == session.messages.end()) {
    return Out::fail(404, "not_found_error", "no message " + std::to_string(message_id));
  }
  if (it->role != "user")
    return Out::fail(400, "invalid_request_error", "only user messages can be edited");
  if (auto st = impl_->store->edit_and_truncate(session_id, message_id, content); !st.ok()) {
    return store_failure<std::shared_ptr<Generation>>(st.error());
  }
  it->content = content;
  session.messages.erase(it + 1, session.messages.end());
  return impl_->start(session);
}

Outcome<bool> ChatService::stop(const std::string& session_id) {
  std::lock_guard lock(impl_->mu);
  auto it = impl_->generations.find(session_id);
  if (it == impl_->generations.end() || it->second->finished()) {
    auto s = impl_->store->get_session(session_id, false);
    if (s.ok() && !s->has_value()) {
      return Outcome<bool>::fail(404, "not_found_error", "no session " + session_id);
    }
    return ok(false);  // nothing running: stopping is a no-op
  }
  it->second->cancel();
  return ok(true);
}

Outcome<std::shared_ptr<Generation>> ChatService::current_generation(
    const std::string& session_id) {
  std::lock_guard lock(impl_->mu);
  auto it = impl_->generations.find(session_id);
  if (it == impl_->generations.end()) {
    return Outcome<std::shared_ptr<Generation>>::fail(
        404, "not_found_error", "no generation for session " + session_id + " since start-up");
  }
  return ok(it->second);
}

Outcome<std::shared_ptr<Generation>> ChatService::submit(GenerationRequest request) {
  using Out = Outcome<std::shared_ptr<Generation>>;
  if (!ready()) return Out::fail(503, "unavailable_error", "model is loading");
  if (auto err = impl_->vocab_problem(request.sampling); !err.empty()) {
    return Out::fail(400, "invalid_request_error", err);
  }
  request.session_id.clear();
  request.max_tokens = std::clamp(request.max_tokens, 1, impl_->options.max_tokens_limit);
  auto gen = std::make_shared<Generation>("chatcmpl-" + random_id(20), std::move(request));
  if (!impl_->worker->submit(gen)) {
    return Out::fail(503, "unavailable_error", "server busy: generation queue is full");
  }
  return ok(gen);
}

Outcome<std::vector<int32_t>> ChatService::tokenize(const std::string& text) {
  using Out = Outcome<std::vector<int32_t>>;
  Result<std::vector<int32_t>> r = Error{""};
  if (!impl_->worker->call([&](Backend& b) { r = b.tokenize(text); })) {
    return Out::fail(503, "unavailable_error", "model is loading");
  }
  if (!r.ok()) return Out::fail(400, "invalid_request_error", r.error());
  return ok(std::move(r).value());
}

Outcome<std::string> ChatService::detokenize(const std::vector<int32_t>& tokens) {
  using Out = Outcome<std::string>;
  if (!ready()) return Out::fail(503, "unavailable_error", "model is loading");
  for (int32_t t : tokens) {
    if (t < 0 || t >= info().n_vocab) {
      return Out::fail(400, "invalid_request_error", "token id out of range: " + std::to_string(t));
    }
  }
  std::string bytes;
  if (!impl_->worker->call([&](Backend& b) { bytes = b.detokenize(tokens); })) {
    return Out::fail(503, "unavailable_error", "model is loading");
  }
  return ok(take_utf8(bytes, true));
}

Outcome<std::string> ChatService::apply_template(const std::vector<Message>& messages,
                                                 const PromptOptions& options,
                                                 bool add_generation_prompt) {
  using Out = Outcome<std::string>;
  Result<std::string> r = Error{""};
  if (!impl_->worker->call(
          [&](Backend& b) { r = b.render(messages, options, add_generation_prompt); })) {
    return Out::fail(503, "unavailable_error", "model is loading");
  }
  if (!r.ok()) return Out::fail(400, "invalid_request_error", r.error());
  return ok(std::move(r).value());
}

}  // namespace smol::net
