// Health, props, model utilities, metrics and the static web UI (docs/api.md, "Utilities").
#include <filesystem>
#include <fstream>
#include <sstream>

#include "routes.h"

namespace smol::net {

namespace {

// Reads the optional messages/tools/thinking fields shared by /apply-template.
std::string parse_template_request(const json& j, std::vector<Message>& messages,
                                   PromptOptions& options) {
  if (!j.contains("messages") || !j["messages"].is_array()) return "messages must be an array";
  for (size_t i = 0; i < j["messages"].size(); ++i) {
    const json& m = j["messages"][i];
    if (!m.is_object() || !m.contains("role") || !m["role"].is_string() ||
        (m.contains("content") && !m["content"].is_string() && !m["content"].is_null())) {
      return "messages[" + std::to_string(i) + "] needs a string role and string content";
    }
    Message msg;
    msg.role = m["role"].get<std::string>();
    if (m.contains("content") && m["content"].is_string()) msg.content = m["content"];
    messages.push_back(std::move(msg));
  }
  if (j.contains("enable_thinking")) {
    if (!j["enable_thinking"].is_boolean()) return "enable_thinking must be true or false";
    options.enable_thinking = j["enable_thinking"].get<bool>();
  }
  if (j.contains("tools") && j["tools"].is_array() && !j["tools"].empty()) {
    options.tools_json = j["tools"].dump();
  }
  return "";
}

std::string mime_type(const std::filesystem::path& p) {
  static const std::map<std::string, std::string> kTypes = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".woff2", "font/woff2"},
      {".txt", "text/plain; charset=utf-8"},
      {".map", "application/json"}};
  auto it = kTypes.find(p.extension().string());
  return it == kTypes.end() ? "application/octet-stream" : it->second;
}

// Only plain segments of [A-Za-z0-9._-], none starting with '.': no traversal, no dotfiles.
bool safe_relative_path(const std::string& rel) {
  if (rel.empty() || rel.size() > 512) return false;
  std::istringstream parts(rel);
  std::string seg;
  while (std::getline(parts, seg, '/')) {
    if (seg.empty() || seg[0] == '.') return false;
    for (unsigned char c : seg) {
      if (!std::isalnum(c) && c != '.' && c != '_' && c != '-') return false;
    }
  }
  return rel.back() != '/';
}

}  // namespace

void health(HttpContext& ctx, Api& api) {
  if (api.service->ready()) return ctx.send_json(200, {{"status", "ok"}});
  std::string error = api.service->load_error();
  if (!error.empty()) return ctx.send_json(503, {{"status", "error"}, {"message", error}});
  ctx.send_json(503, {{"status", "loading"}});
}

void props(HttpContext& ctx, Api& api) {
  if (!api.service->ready()) return ctx.send_error(503, "unavailable_error", "model is loading");
  const BackendInfo& info = api.service->info();
  const Sampling s;
  ctx.send_json(200, {{"model_name", info.model_name},
                      {"model_path", info.model_path},
                      {"n_ctx", info.n_ctx},
                      {"n_vocab", info.n_vocab},
                      {"total_slots", info.n_slots},
                      {"chat_template", info.chat_template},
                      {"default_generation_settings",
                       {{"temperature", s.temperature},
                        {"top_p", s.top_p},
                        {"top_k", s.top_k},
                        {"min_p", s.min_p},
                        {"max_tokens", SessionSettings{}.max_tokens}}}});
}

void tokenize(HttpContext& ctx, Api& api) {
  auto body = ctx.json_body();
  if (!body) return;
  if (!body->contains("content") || !(*body)["content"].is_string()) {
    return ctx.send_error(400, "invalid_request_error", "content (string) is required");
  }
  auto ids = api.service->tokenize((*body)["content"].get<std::string>());
  if (!ids.ok()) return ctx.send_error(ids.error);
  ctx.send_json(200, {{"tokens", *ids.value}});
}

void detokenize(HttpContext& ctx, Api& api) {
  auto body = ctx.json_body();
  if (!body) return;
  const json& t = body->value("tokens", json(nullptr));
  if (!t.is_array()) return ctx.send_error(400, "invalid_request_error", "tokens must be an array");
  std::vector<int32_t> ids;
  for (const auto& x : t) {
    if (!x.is_number_integer() || x.get<int64_t>() < 0 || x.get<int64_t>() > INT32_MAX) {
      return ctx.send_error(400, "invalid_request_error", "tokens must be non-negative integers");
    }
    ids.push_back(x.get<int32_t>());
  }
  auto text = api.service->detokenize(ids);
  if (!text.ok()) return ctx.send_error(text.error);
  ctx.send_json(200, {{"content", *text.value}});
}

void apply_template(HttpContext& ctx, Api& api) {
  auto body = ctx.json_body();
  if (!body) return;
  std::vector<Message> messages;
  PromptOptions options;
  if (auto err = parse_template_request(*body, messages, options); !err.empty()) {
    return ctx.send_error(400, "invalid_request_error", err);
  }
  bool add = body->value("add_generation_prompt", true);
  auto prompt = api.service->apply_template(messages, options, add);
  if (!prompt.ok()) return ctx.send_error(prompt.error);
  ctx.send_json(200, {{"prompt", *prompt.value}});
}

void metrics(HttpContext& ctx, Api& api) {
  const Metrics m = api.service->metrics();
  std::ostringstream out;
  auto counter = [&](const char* name, const char* help, double v, const char* type = "counter") {
    out << "# HELP smolbot_" << name << ' ' << help << "\n# TYPE smolbot_" << name << ' ' << type
        << "\nsmolbot_" << name << ' ' << v << '\n';
  };
  counter("http_requests_total", "HTTP requests received.", api.http_requests.load());
  counter("http_errors_total", "HTTP answers with status >= 400.", api.http_errors.load());
  counter("generations_started_total", "Generations queued.", m.generations_started);
  counter("generations_finished_total", "Generations ended normally.", m.generations_finished);
  counter("generations_cancelled_total", "Generations stopped.", m.generations_cancelled);
  counter("generations_failed_total", "Generations ended by an error.", m.generations_failed);
  counter("rejected_queue_full_total", "Requests refused with 503.", m.rejected_queue_full);
  counter("prompt_tokens_total", "Prompt tokens of finished generations.", m.prompt_tokens);
  counter("cached_tokens_total", "Prompt tokens reused from a KV cache.", m.cached_tokens);
  counter("generated_tokens_total", "Tokens generated.", m.generated_tokens);
  counter("decode_seconds_total", "Seconds spent generating.", m.decode_seconds);
  counter("queue_length", "Generations waiting for a slot.", m.queued, "gauge");
  counter("active_generations", "Generations on a slot.", m.running, "gauge");
  counter("model_loaded", "1 once the model is loaded.", api.service->ready() ? 1 : 0, "gauge");
  ctx.send_text(200, "text/plain; version=0.0.4; charset=utf-8", out.str());
}

void static_file(HttpContext& ctx, Api& api) {
  std::string rel = ctx.path() == "/" ? "index.html" : ctx.path().substr(1);
  namespace fs = std::filesystem;
  if (!safe_relative_path(rel)) return ctx.send_error(404, "not_found_error", "not found");
  fs::path file = fs::path(api.options.www_dir) / rel;
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) {
    if (rel == "index.html") {
      return ctx.send_text(200, "text/plain; charset=utf-8",
                           "smolbot server is running; the web UI (www/) is not installed.\n"
                           "API: see docs/api.md\n");
    }
    return ctx.send_error(404, "not_found_error", "not found");
  }
  std::ifstream in(file, std::ios::binary);
  std::ostringstream data;
  data << in.rdbuf();
  ctx.set_header("Cache-Control", "no-cache");
  ctx.send_text(200, mime_type(file), data.str());
}

}  // namespace smol::net
