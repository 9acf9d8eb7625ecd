#include "smol/conversation.h"

#include <algorithm>
#include <utility>

namespace smol::engine {

namespace {

bool known_role(std::string_view role) {
  return role == "system" || role == "user" || role == "assistant" || role == "tool";
}

// Roles are known and "system" appears only first (the SmolLM3 template reads messages[0] only).
Status check_messages(const std::vector<ChatMessage>& messages) {
  for (size_t i = 0; i < messages.size(); ++i) {
    const auto& role = messages[i].role;
    if (!known_role(role)) {
      return Error{"message " + std::to_string(i) + ": unknown role '" + role +
                   "' (expected system, user, assistant or tool)"};
    }
    if (role == "system" && i != 0) {
      return Error{"message " + std::to_string(i) + ": a system message may only come first"};
    }
  }
  return {};
}

// Templates that end the generation prompt with an open "<think>" make the output start inside
// the think block.
bool prompt_opens_think(std::string_view prompt) {
  const size_t end = prompt.find_last_not_of(" \n");
  return end != std::string_view::npos && end + 1 >= 7 &&
         prompt.substr(end + 1 - 7, 7) == "<think>";
}

}  // namespace

chat::Json messages_to_json(const std::vector<ChatMessage>& messages) {
  chat::Json out = chat::Json::array();
  for (const auto& m : messages) {
    chat::Json j = {{"role", m.role}, {"content", m.content}};
    if (!m.reasoning.empty()) j["reasoning_content"] = m.reasoning;
    out.push_back(std::move(j));
  }
  return out;
}

Result<std::vector<ChatMessage>> messages_from_json(const chat::Json& json) {
  const chat::Json* list = &json;
  if (json.is_object() && json.contains("messages")) list = &json["messages"];
  if (!list->is_array()) return Error{"expected a JSON array of messages"};
  std::vector<ChatMessage> out;
  for (size_t i = 0; i < list->size(); ++i) {
    const auto& m = (*list)[i];
    const std::string where = "message " + std::to_string(i);
    if (!m.is_object()) return Error{where + ": not an object"};
    auto role = m.find("role");
    if (role == m.end() || !role->is_string()) return Error{where + ": missing string \"role\""};
    ChatMessage msg;
    msg.role = role->get<std::string>();
    auto content = m.find("content");
    if (content != m.end() && !content->is_null()) {
      if (!content->is_string()) return Error{where + ": \"content\" must be a string"};
      msg.content = content->get<std::string>();
    }
    auto reasoning = m.find("reasoning_content");
    if (reasoning != m.end() && !reasoning->is_null()) {
      if (!reasoning->is_string()) return Error{where + ": \"reasoning_content\" must be a string"};
      msg.reasoning = reasoning->get<std::string>();
    }
    out.push_back(std::move(msg));
  }
  SMOL_TRY(check_messages(out));
  return out;
}

Conversation::Conversation(Session& session, std::unique_ptr<Session> owned,
                           ConversationOptions options)
    : owned_(std::move(owned)), session_(&session), options_(std::move(options)) {}

Conversation::~Conversation() = default;

Result<std::unique_ptr<Conversation>> Conversation::create(const Model& model,
                                                           const SessionOptions& session_options,
                                                           ConversationOptions options) {
  auto session = Session::create(model, session_options);
  if (!session) return Error{session.error()};
  Session& ref = **session;
  std::unique_ptr<Conversation> c(
      new Conversation(ref, std::move(session).value(), std::move(options)));
  SMOL_TRY(c->load_template());
  return c;
}

Result<std::unique_ptr<Conversation>> Conversation::create(Session& session,
                                                           ConversationOptions options) {
  std::unique_ptr<Conversation> c(new Conversation(session, nullptr, std::move(options)));
  SMOL_TRY(c->load_template());
  SMOL_TRY(session.truncate(0));
  return c;
}

Status Conversation::load_template() {
  const Model& model = session_->model();
  const tokenizer::Tokenizer* tok = model.tokenizer();
  if (!tok) return Error{"conversation: the model was loaded without a tokenizer"};
  for (auto [name, id] : {std::pair{"bos_token", tok->bos_id()}, {"eos_token", tok->eos_id()}}) {
    if (id < 0) continue;
    auto text = tok->token_to_piece(id, /*render_special=*/true);
    if (text) special_tokens_[name] = std::move(*text);
  }
  const gguf::File& file = model.file();
  if (!file.has("tokenizer.chat_template")) {
    template_warning_ = "the model has no tokenizer.chat_template; using plain ChatML";
    return {};
  }
  auto source = file.get_string("tokenizer.chat_template");
  if (!source) return Error{"conversation: " + source.error()};
  auto parsed = chat::Template::parse(*source);
  if (!parsed) {
    template_warning_ = parsed.error() + "; using plain ChatML";
    return {};
  }
  template_ = std::move(*parsed);
  return {};
}

Status Conversation::add(ChatMessage message) {
  messages_.push_back(std::move(message));
  Status st = check_messages(messages_);
  if (!st.ok()) messages_.pop_back();
  return st;
}

Status Conversation::set_messages(std::vector<ChatMessage> messages) {
  SMOL_TRY(check_messages(messages));
  messages_ = std::move(messages);
  return {};
}

void Conversation::set_system(std::string text) {
  const bool has_system = !messages_.empty() && messages_.front().role == "system";
  if (text.empty()) {
    if (has_system) messages_.erase(messages_.begin());
  } else if (has_system) {
    messages_.front().content = std::move(text);
  } else {
    messages_.insert(messages_.begin(), ChatMessage{"system", std::move(text), ""});
  }
}

void Conversation::clear() {
  const bool has_system = !messages_.empty() && messages_.front().role == "system";
  messages_.resize(has_system ? 1 : 0);
}

void Conversation::reset_cache() {
  Status st = session_->truncate(0);
  SMOL_CHECK(st.ok(), "truncate(0) cannot fail");
  tokens_.clear();
}

Result<std::string> Conversation::render_prompt() const {
  chat::Json ctx = special_tokens_;
  ctx["messages"] = messages_to_json(messages_);
  ctx["add_generation_prompt"] = true;
  if (options_.enable_thinking) ctx["enable_thinking"] = *options_.enable_thinking;
  if (options_.xml_tools.is_array()) ctx["xml_tools"] = options_.xml_tools;
  if (options_.python_tools.is_array()) ctx["python_tools"] = options_.python_tools;
  if (!template_) return chat::render_chatml(ctx);
  chat::RenderOptions ro;
  ro.now = options_.now;
  auto text = template_->render(ctx, ro);
  if (!text) return Error{"conversation: chat template: " + text.error()};
  return std::move(*text);
}

Result<Conversation::Prompt> Conversation::build_prompt() const {
  Prompt p;
  auto text = render_prompt();
  if (!text) return Error{text.error()};
  p.text = std::move(*text);
  auto ids = session_->model().tokenizer()->encode(p.text, /*parse_special=*/true);
  if (!ids) return Error{"conversation: " + ids.error()};
  p.tokens = std::move(*ids);
  return p;
}

Result<std::vector<int32_t>> Conversation::prompt_tokens() const {
  auto p = build_prompt();
  if (!p) return Error{p.error()};
  return std::move(p->tokens);
}

bool Conversation::drop_oldest_turn(int* dropped) {
  size_t first = !messages_.empty() && messages_.front().role == "system" ? 1 : 0;
  size_t last_user = messages_.size();
  for (size_t i = messages_.size(); i-- > first;) {
    if (messages_[i].role == "user") {
      last_user = i;
      break;
    }
  }
  if (last_user == messages_.size() || first >= last_user) return false;
  // The oldest turn runs up to (not including) the next user message.
  size_t end = first + 1;
  while (end < last_user && messages_[end].role != "user") ++end;
  *dropped += static_cast<int>(end - first);
  messages_.erase(messages_.begin() + static_cast<std::ptrdiff_t>(first),
                  messages_.begin() + static_cast<std::ptrdiff_t>(end));
  return true;
}

Result<Conversation::Prompt> Conversation::fitting_prompt(int* dropped) {
  *dropped = 0;
  const int n_ctx = session_->n_ctx();
  const int reserve = std::max(options_.min_free_tokens, 0);
  for (;;) {
    auto p = build_prompt();
    if (!p) return Error{p.error()};
    const int n = static_cast<int>(p->tokens.size());
    if (n + reserve <= n_ctx) return p;
    if (!options_.drop_oldest || !drop_oldest_turn(dropped)) {
      std::string msg = "conversation: the prompt is " + std::to_string(n) +
                        " tokens but the context size is " + std::to_string(n_ctx) + " (" +
                        std::to_string(reserve) + " must stay free for the reply)";
      if (options_.drop_oldest) msg += "; it does not fit even with every earlier turn dropped";
      return Error{std::move(msg)};
    }
  }
}

Result<TurnResult> Conversation::send(std::string_view user_text, const TurnOptions& options,
                                      const TurnCallback& on_event) {
  messages_.push_back(ChatMessage{"user", std::string(user_text), ""});
  auto r = respond(options, on_event);
  // respond() fails only before anything was recorded: take the user message back out.
  if (!r) messages_.pop_back();
  return r;
}

Result<TurnResult> Conversation::respond(const TurnOptions& options, const TurnCallback& on_event) {
  if (messages_.empty()) return Error{"conversation: no messages to answer"};
  TurnResult result;
  const std::vector<ChatMessage> backup = messages_;  // restored if the turn fails
  auto prompt = fitting_prompt(&result.stats.dropped_messages);
  if (!prompt) {
    messages_ = backup;
    return Error{prompt.error()};
  }
  const std::vector<int32_t>& ids = prompt->tokens;
  if (ids.empty()) {
    messages_ = backup;
    return Error{"conversation: the chat template rendered an empty prompt"};
  }

  // Longest common prefix with the cache; the last prompt token is always evaluated so its
  // logits are fresh.
  size_t keep = 0;
  while (keep < ids.size() && keep < tokens_.size() && ids[keep] == tokens_[keep]) ++keep;
  keep = std::min(keep, ids.size() - 1);
  SMOL_TRY(session_->truncate(static_cast<int>(keep)));
  tokens_.resize(keep);

  chat::OutputParser parser(
      chat::OutputParserOptions{prompt_opens_think(prompt->text), true, true});
  std::string content;
  auto handle = [&](std::vector<chat::OutputEvent> events) {
    for (auto& e : events) {
      switch (e.kind) {
        case chat::OutputEventKind::kReasoning:
          break;  // parser.reasoning() has it all
        case chat::OutputEventKind::kAnswer:
          content += e.text;
          break;
        case chat::OutputEventKind::kToolCall:
          content += "<tool_call>" + e.tool_call.raw + "</tool_call>";
          result.tool_calls.push_back(e.tool_call);
          break;
        case chat::OutputEventKind::kWarning:
          result.warnings.push_back(e.text);
          break;
      }
      if (on_event) on_event(e);
    }
  };

  GenerateOptions g = options.generate;
  g.render_special = true;  // <think>, <tool_call> must reach the parser
  size_t streamed = 0;
  auto on_token = [&](int32_t, std::string_view text) {
    streamed += text.size();
    handle(parser.feed(text));
    return true;
  };
  const std::span<const int32_t> rest = std::span(ids).subspan(keep);
  auto gen = generate(*session_, rest, g, on_token);
  if (!gen) {
    // The prefill or a decode step failed; we cannot tell which generated ids reached the cache,
    // so keep only the part we know.
    const int n = std::min(session_->n_past(), static_cast<int>(keep));
    Status st = session_->truncate(n);
    SMOL_CHECK(st.ok(), "truncate to a shorter length cannot fail");
    tokens_.resize(static_cast<size_t>(n));
    messages_ = backup;
    return Error{gen.error()};
  }
  if (streamed < gen->text.size()) {
    // Text generate() held back for a stop string when the turn was cancelled.
    handle(parser.feed(std::string_view(gen->text).substr(streamed)));
  }
  handle(parser.finish());

  // The cache now holds the prompt plus the generated ids that were evaluated (the last sampled
  // id, e.g. <|im_end|>, never is).
  tokens_.insert(tokens_.end(), rest.begin(), rest.end());
  tokens_.insert(tokens_.end(), gen->ids.begin(), gen->ids.begin() + gen->n_decode);
  SMOL_CHECK(static_cast<int>(tokens_.size()) == session_->n_past(),
             "conversation tokens must mirror the KV cache");

  result.message = ChatMessage{"assistant", std::move(content), parser.reasoning()};
  messages_.push_back(result.message);

  TurnStats& s = result.stats;
  s.prompt_tokens = static_cast<int>(ids.size());
  s.cached_tokens = static_cast<int>(keep);
  s.evaluated_tokens = gen->n_prompt;
  s.generated_tokens = static_cast<int>(gen->ids.size());
  s.n_decode = gen->n_decode;
  s.prefill_ms = gen->prefill_ms;
  s.decode_ms = gen->decode_ms;
  s.stop_reason = gen->stop_reason;
  return result;
}

}  // namespace smol::engine
