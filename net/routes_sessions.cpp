// Native session API: /api/sessions... (docs/api.md, "Sessions").
#include <algorithm>
#include <chrono>

#include "routes.h"
#include "settings_json.h"
#include "text_utils.h"

namespace smol::net {

namespace {

json message_json(const StoredMessage& m) {
  json j = {{"id", m.id},           {"role", m.role},
            {"content", m.content}, {"reasoning", m.reasoning},
            {"status", m.status},   {"created_at", m.created_ms}};
  j["tool_calls"] =
      m.tool_calls_json.empty() ? json::array() : json::parse(m.tool_calls_json, nullptr, false);
  j["stats"] = m.stats_json.empty() ? json(nullptr) : json::parse(m.stats_json, nullptr, false);
  return j;
}

// Reads the settable session fields of `j` into `patch`; returns "" or what is wrong.
std::string parse_patch(const json& j, SessionPatch& patch, const Sampling& base = {}) {
  if (j.contains("title")) {
    if (!j["title"].is_string()) return "title must be a string";
    patch.title = truncate_utf8(j["title"].get<std::string>(), 200);
  }
  if (j.contains("system_prompt")) {
    if (!j["system_prompt"].is_string()) return "system_prompt must be a string";
    patch.system_prompt = j["system_prompt"].get<std::string>();
  }
  if (j.contains("thinking")) {
    if (!j["thinking"].is_boolean()) return "thinking must be true or false";
    patch.thinking = j["thinking"].get<bool>();
  }
  if (j.contains("max_tokens")) {
    if (!j["max_tokens"].is_number_integer() || j["max_tokens"].get<int64_t>() < 1 ||
        j["max_tokens"].get<int64_t>() > 1 << 20) {
      return "max_tokens must be a positive integer";
    }
    patch.max_tokens = j["max_tokens"].get<int>();
  }
  if (j.contains("sampling")) {
    if (!j["sampling"].is_object()) return "sampling must be an object";
    Sampling s = base;  // fields not named keep their value
    if (auto err = parse_sampling(j["sampling"], s); !err.empty()) return err;
    patch.sampling = s;
  }
  return "";
}

std::optional<std::string> user_content(HttpContext& ctx, const json& j) {
  if (!j.contains("content") || !j["content"].is_string()) {
    ctx.send_error(400, "invalid_request_error", "content (string) is required");
    return std::nullopt;
  }
  return j["content"].get<std::string>();
}

void accepted(HttpContext& ctx, const std::string& session_id, const Generation& gen) {
  ctx.send_json(202, {{"session_id", session_id},
                      {"generation_id", gen.id()},
                      {"events", "/api/sessions/" + session_id + "/events"}});
}

// "gen-abc:17" -> 18 when it names `gen`'s events, else 0 (a new generation starts over).
int64_t resume_index(const std::string& last_event_id, const Generation& gen) {
  size_t colon = last_event_id.rfind(':');
  if (colon == std::string::npos || last_event_id.substr(0, colon) != gen.id()) return 0;
  try {
    return std::stoll(last_event_id.substr(colon + 1)) + 1;
  } catch (...) {
    return 0;
  }
}

}  // namespace

json session_json(const Session& s, bool with_messages) {
  json j = {{"id", s.id},
            {"title", s.title},
            {"created_at", s.created_ms},
            {"updated_at", s.updated_ms},
            {"settings", settings_to_json(s.settings)},
            {"generating", s.generating}};
  if (with_messages) {
    j["generation_id"] = s.generation_id.empty() ? json(nullptr) : json(s.generation_id);
    j["messages"] = json::array();
    for (const auto& m : s.messages) j["messages"].push_back(message_json(m));
  }
  return j;
}

void list_sessions(HttpContext& ctx, Api& api) {
  auto all = api.service->list_sessions();
  if (!all.ok()) return ctx.send_error(all.error);
  json out = json::array();
  for (const auto& s : *all.value) out.push_back(session_json(s, false));
  ctx.send_json(200, {{"sessions", out}});
}

void create_session(HttpContext& ctx, Api& api) {
  auto body = ctx.json_body(true);
  if (!body) return;
  SessionPatch patch;
  if (auto err = parse_patch(*body, patch); !err.empty()) {
    return ctx.send_error(400, "invalid_request_error", err);
  }
  SessionSettings settings;
  if (patch.system_prompt) settings.system_prompt = *patch.system_prompt;
  if (patch.thinking) settings.thinking = *patch.thinking;
  if (patch.sampling) settings.sampling = *patch.sampling;
  if (patch.max_tokens) settings.max_tokens = *patch.max_tokens;
  auto s = api.service->create_session(patch.title.value_or(""), settings);
  if (!s.ok()) return ctx.send_error(s.error);
  ctx.send_json(201, session_json(*s.value, true));
}

void get_session(HttpContext& ctx, Api& api) {
  auto s = api.service->get_session(ctx.param("id"));
  if (!s.ok()) return ctx.send_error(s.error);
  ctx.send_json(200, session_json(*s.value, true));
}

void patch_session(HttpContext& ctx, Api& api) {
  auto body = ctx.json_body();
  if (!body) return;
  auto current = api.service->get_session(ctx.param("id"));
  if (!current.ok()) return ctx.send_error(current.error);
  SessionPatch patch;
  if (auto err = parse_patch(*body, patch, current.value->settings.sampling); !err.empty()) {
    return ctx.send_error(400, "invalid_request_error", err);
  }
  auto s = api.service->patch_session(ctx.param("id"), patch);
  if (!s.ok()) return ctx.send_error(s.error);
  ctx.send_json(200, session_json(*s.value, false));
}

void delete_session(HttpContext& ctx, Api& api) {
  auto r = api.service->delete_session(ctx.param("id"));
  if (!r.ok()) return ctx.send_error(r.error);
  ctx.send_empty(204);
}

void post_message(HttpContext& ctx, Api& api) {
  auto body = ctx.json_body();
  if (!body) return;
  auto content = user_content(ctx, *body);
  if (!content) return;
  auto gen = api.service->post_message(ctx.param("id"), *content);
  if (!gen.ok()) return ctx.send_error(gen.error);
  accepted(ctx, ctx.param("id"), **gen.value);
}

void edit_message(HttpContext& ctx, Api& api) {
  auto body = ctx.json_body();
  if (!body) return;
  auto content = user_content(ctx, *body);
  if (!content) return;
  int64_t mid = 0;
  try {
    mid = std::stoll(ctx.param("mid"));
  } catch (...) {
    return ctx.send_error(400, "invalid_request_error", "message id must be an integer");
  }
  auto gen = api.service->edit_message(ctx.param("id"), mid, *content);
  if (!gen.ok()) return ctx.send_error(gen.error);
  accepted(ctx, ctx.param("id"), **gen.value);
}

void regenerate(HttpContext& ctx, Api& api) {
  auto gen = api.service->regenerate(ctx.param("id"));
  if (!gen.ok()) return ctx.send_error(gen.error);
  accepted(ctx, ctx.param("id"), **gen.value);
}

void stop_session(HttpContext& ctx, Api& api) {
  auto r = api.service->stop(ctx.param("id"));
  if (!r.ok()) return ctx.send_error(r.error);
  ctx.send_json(200, {{"stopped", *r.value}});
}

void session_events(HttpContext& ctx, Api& api) {
  auto gen = api.service->current_generation(ctx.param("id"));
  if (!gen.ok()) return ctx.send_error(gen.error);
  std::string last = ctx.header("Last-Event-ID");
  if (last.empty()) last = ctx.query("last_event_id");
  stream_native(ctx, api, *gen.value, resume_index(last, **gen.value));
}

// The session's generation keeps running when the client leaves: the browser may reload and
// resume with Last-Event-ID. POST .../stop ends it.
void stream_native(HttpContext& ctx, Api& api, const std::shared_ptr<Generation>& gen,
                   int64_t from) {
  using namespace std::chrono;
  ctx.begin_sse();
  auto last_write = steady_clock::now();
  const auto wait = milliseconds(std::clamp(api.options.keepalive_comment_ms, 10, 250));
  while (!api.stopping) {
    auto events = gen->wait_events(from, wait);
    if (events.empty()) {
      if (gen->finished()) return;
      if (steady_clock::now() - last_write < milliseconds(api.options.keepalive_comment_ms)) {
        if (ctx.client_gone()) return;
        continue;
      }
      if (!ctx.sse_comment("keep-alive")) return;
      last_write = steady_clock::now();
      continue;
    }
    for (const auto& e : events) {
      if (!ctx.sse_event(gen->id() + ":" + std::to_string(e.index), e.type, e.data)) return;
      from = e.index + 1;
      if (e.type == "done" || e.type == "error") return;
    }
    last_write = steady_clock::now();
  }
}

}  // namespace smol::net
