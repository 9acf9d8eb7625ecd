// OpenAI-compatible API: POST /v1/chat/completions, GET /v1/models (docs/api.md, "OpenAI").
//
// Streaming and non-streaming read the same Generation event log. Unlike session generations,
// a request whose client disconnects is cancelled: nobody could ever read the answer.
#include <chrono>
#include <ctime>

#include "routes.h"
#include "settings_json.h"

namespace smol::net {

namespace {

using std::chrono::milliseconds;

struct ChatRequest {
  GenerationRequest generation;
  bool stream = false;
  bool include_usage = false;
};

std::string message_text(const json& content) {
  if (content.is_string()) return content.get<std::string>();
  std::string out;  // array of parts: only text parts are supported
  for (const auto& part : content) {
    if (part.is_object() && part.value("type", "") == "text" && part.contains("text") &&
        part["text"].is_string()) {
      out += part["text"].get<std::string>();
    }
  }
  return out;
}

// Returns "" or what is wrong with the messages array.
std::string parse_messages(const json& messages, std::vector<Message>& out) {
  if (!messages.is_array() || messages.empty()) return "messages must be a non-empty array";
  for (size_t i = 0; i < messages.size(); ++i) {
    const json& m = messages[i];
    const std::string where = "messages[" + std::to_string(i) + "]";
    if (!m.is_object() || !m.contains("role") || !m["role"].is_string()) {
      return where + " must be an object with a string role";
    }
    Message msg;
    msg.role = m["role"].get<std::string>();
    if (msg.role == "developer") msg.role = "system";
    if (msg.role != "system" && msg.role != "user" && msg.role != "assistant" &&
        msg.role != "tool") {
      return where + ".role '" + msg.role + "' is not system, user, assistant or tool";
    }
    const json content = m.value("content", json(nullptr));
    if (!content.is_null() && !content.is_string() && !content.is_array()) {
      return where + ".content must be a string, an array of parts or null";
    }
    if (!content.is_null()) msg.content = message_text(content);
    if (m.contains("reasoning_content") && m["reasoning_content"].is_string()) {
      msg.reasoning = m["reasoning_content"].get<std::string>();
    }
    if (m.contains("tool_calls") && m["tool_calls"].is_array()) {
      json calls = json::array();
      for (const auto& c : m["tool_calls"]) {
        if (!c.is_object() || !c.contains("function") || !c["function"].is_object()) {
          return where + ".tool_calls entries need a function object";
        }
        const json& f = c["function"];
        json args = f.value("arguments", json("{}"));
        calls.push_back({{"id", c.value("id", "")},
                         {"name", f.value("name", "")},
                         {"arguments", args.is_string() ? args.get<std::string>() : args.dump()}});
      }
      msg.tool_calls_json = calls.dump();
    }
    out.push_back(std::move(msg));
  }
  return "";
}

std::string parse_request(const json& j, ChatRequest& r) {
  GenerationRequest& g = r.generation;
  if (auto err = parse_messages(j.value("messages", json(nullptr)), g.messages); !err.empty()) {
    return err;
  }
  if (auto err = parse_sampling(j, g.sampling); !err.empty()) return err;
  for (const char* key : {"max_completion_tokens", "max_tokens"}) {
    if (!j.contains(key) || j[key].is_null()) continue;
    if (!j[key].is_number_integer() || j[key].get<int64_t>() < 1) {
      return std::string(key) + " must be a positive integer";
    }
    g.max_tokens = static_cast<int>(std::min<int64_t>(j[key].get<int64_t>(), 1 << 20));
    break;
  }
  if (j.contains("n") && !(j["n"].is_number_integer() && j["n"].get<int64_t>() == 1)) {
    return "only n = 1 is supported";
  }
  if (j.contains("stop") && !j["stop"].is_null()) {
    const json& s = j["stop"];
    if (s.is_string()) {
      g.stop.push_back(s.get<std::string>());
    } else if (s.is_array() && s.size() <= 16) {
      for (const auto& x : s) {
        if (!x.is_string()) return "stop must be a string or an array of strings";
        g.stop.push_back(x.get<std::string>());
      }
    } else {
      return "stop must be a string or an array of at most 16 strings";
    }
  }
  if (j.contains("stream") && !j["stream"].is_boolean()) return "stream must be true or false";
  r.stream = j.value("stream", false);
  if (j.contains("stream_options") && j["stream_options"].is_object()) {
    r.include_usage = j["stream_options"].value("include_usage", false);
  }
  if (j.contains("chat_template_kwargs") && j["chat_template_kwargs"].is_object()) {
    const json& kw = j["chat_template_kwargs"];
    if (kw.contains("enable_thinking") && !kw["enable_thinking"].is_boolean()) {
      return "chat_template_kwargs.enable_thinking must be true or false";
    }
    g.prompt.enable_thinking = kw.value("enable_thinking", true);
  }
  if (j.contains("tools") && !j["tools"].is_null()) {
    if (!j["tools"].is_array()) return "tools must be an array";
    if (!j["tools"].empty()) g.prompt.tools_json = j["tools"].dump();
  }
  return "";
}

json usage_json(const GenerationStats& s) {
  return {{"prompt_tokens", s.prompt_tokens},
          {"completion_tokens", s.generated_tokens},
          {"total_tokens", s.prompt_tokens + s.generated_tokens},
          {"prompt_tokens_details", {{"cached_tokens", s.cached_tokens}}}};
}

std::string finish_reason(const std::string& reason) {
  return reason == "cancelled" ? "stop" : reason;
}

// Waits for the worker to take the job, cancelling it if the client leaves meanwhile.
bool wait_admitted(HttpContext& ctx, Api& api, Generation& gen) {
  while (!api.stopping) {
    if (gen.wait_admitted(milliseconds(250))) return true;
    if (gen.finished()) return false;
    if (ctx.client_gone()) {
      gen.cancel();
      return false;
    }
  }
  gen.cancel();
  return false;
}

json chunk(const Generation& gen, const std::string& model, const json& delta, const json& finish) {
  return {{"id", gen.id()},
          {"object", "chat.completion.chunk"},
          {"created", static_cast<int64_t>(std::time(nullptr))},
          {"model", model},
          {"choices", json::array({{{"index", 0}, {"delta", delta}, {"finish_reason", finish}}})}};
}

void stream_openai(HttpContext& ctx, Api& api, Generation& gen, bool include_usage) {
  const std::string model = api.service->info().model_name;
  ctx.begin_sse();
  if (!ctx.sse_data(chunk(gen, model, {{"role", "assistant"}, {"content", ""}}, nullptr).dump())) {
    return gen.cancel();
  }
  int64_t from = 0, n_tool_calls = 0;
  while (!api.stopping) {
    auto events = gen.wait_events(from, milliseconds(250));
    if (ctx.client_gone()) return gen.cancel();
    for (const auto& e : events) {
      from = e.index + 1;
      json data = json::parse(e.data);
      json delta;
      if (e.type == "thinking") delta = {{"reasoning_content", data["text"]}};
      if (e.type == "token") delta = {{"content", data["text"]}};
      if (e.type == "tool_call") {
        delta = {{"tool_calls",
                  json::array({{{"index", n_tool_calls++},
                                {"id", data["id"]},
                                {"type", "function"},
                                {"function",
                                 {{"name", data["name"]}, {"arguments", data["arguments"]}}}}})}};
      }
      if (e.type == "error") {
        ctx.sse_data(json{{"error", data}}.dump());
        ctx.sse_data("[DONE]");
        return;
      }
      if (e.type == "done") {
        ctx.sse_data(chunk(gen, model, json::object(),
                           finish_reason(data["finish_reason"].get<std::string>()))
                         .dump());
        if (include_usage) {
          json u = chunk(gen, model, json::object(), nullptr);
          u["choices"] = json::array();
          u["usage"] = usage_json(gen.result().stats);
          ctx.sse_data(u.dump());
        }
        ctx.sse_data("[DONE]");
        return;
      }
      if (!ctx.sse_data(chunk(gen, model, delta, nullptr).dump())) return gen.cancel();
    }
  }
  gen.cancel();
}

void respond_whole(HttpContext& ctx, Api& api, Generation& gen) {
  while (!gen.finished()) {
    if (api.stopping || ctx.client_gone()) return gen.cancel();
    gen.wait_events(1 << 30, milliseconds(250));  // wakes on finish (or every 250 ms)
  }
  auto r = gen.result();
  if (r.error_code) return ctx.send_error(r.error_code, r.error_type, r.error_message);
  json message = {{"role", "assistant"}, {"content", r.content}};
  if (!r.reasoning.empty()) message["reasoning_content"] = r.reasoning;
  json calls = json::parse(r.tool_calls_json);
  if (!calls.empty()) {
    message["tool_calls"] = json::array();
    for (const auto& c : calls) {
      message["tool_calls"].push_back(
          {{"id", c["id"]},
           {"type", "function"},
           {"function", {{"name", c["name"]}, {"arguments", c["arguments"]}}}});
    }
  }
  ctx.send_json(
      200, {{"id", gen.id()},
            {"object", "chat.completion"},
            {"created", static_cast<int64_t>(std::time(nullptr))},
            {"model", api.service->info().model_name},
            {"choices", json::array({{{"index", 0},
                                      {"message", message},
                                      {"finish_reason", finish_reason(r.stats.finish_reason)}}})},
            {"usage", usage_json(r.stats)}});
}

}  // namespace

void chat_completions(HttpContext& ctx, Api& api) {
  auto body = ctx.json_body();
  if (!body) return;
  ChatRequest req;
  if (auto err = parse_request(*body, req); !err.empty()) {
    return ctx.send_error(400, "invalid_request_error", err);
  }
  auto gen = api.service->submit(std::move(req.generation));
  if (!gen.ok()) return ctx.send_error(gen.error);
  Generation& g = **gen.value;
  if (!wait_admitted(ctx, api, g)) {
    auto r = g.result();
    if (r.error_code && r.error_code != 499)
      ctx.send_error(r.error_code, r.error_type, r.error_message);
    return;
  }
  if (req.stream) return stream_openai(ctx, api, g, req.include_usage);
  respond_whole(ctx, api, g);
}

void list_models(HttpContext& ctx, Api& api) {
  if (!api.service->ready()) return ctx.send_error(503, "unavailable_error", "model is loading");
  const BackendInfo& info = api.service->info();
  ctx.send_json(
      200,
      {{"object", "list"},
       {"data", json::array({{{"id", info.model_name},
                              {"object", "model"},
                              {"created", 0},
                              {"owned_by", "smolbot"},
                              {"meta", {{"n_ctx", info.n_ctx}, {"n_vocab", info.n_vocab}}}}})}});
}

}  // namespace smol::net
