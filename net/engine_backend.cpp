// The Backend over smol_engine + smol_chat. Runs on the service's engine worker thread only.
#include "smol/engine_backend.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>

#include "smol/chat_template.h"
#include "smol/engine.h"
#include "smol/output_parser.h"
#include "smol/sampler.h"

namespace smol::net {

namespace {

using chat::Json;

constexpr int kMaxSlots = 16;

// Control tokens the output parser must see as text; other control tokens stay invisible.
bool parser_tag(std::string_view text) {
  return text == "<think>" || text == "</think>" || text == "<tool_call>" || text == "</tool_call>";
}

engine::SamplerParams sampler_params(const Sampling& s, int penalty_window,
                                     const tokenizer::Tokenizer* tok) {
  engine::SamplerParams p;
  p.logit_bias = s.logit_bias;
  if (s.ignore_eos && tok) {
    for (int32_t id : tok->eog_ids()) p.logit_bias.emplace_back(id, -INFINITY);
  }
  p.temperature = s.temperature;
  p.top_k = s.top_k;
  p.top_p = s.top_p;
  p.min_p = s.min_p;
  p.repeat_penalty = s.repeat_penalty;
  p.presence_penalty = s.presence_penalty;
  p.frequency_penalty = s.frequency_penalty;
  p.penalty_last_n = penalty_window;
  p.seed = s.seed != 0 ? s.seed : std::random_device{}() * 0x9E3779B97F4A7C15ull + 1;
  return p;
}

class EngineSequence : public Sequence {
 public:
  explicit EngineSequence(std::unique_ptr<engine::Session> session)
      : session_(std::move(session)) {}

  Result<int> prefill(std::span<const int32_t> prompt) override {
    sampler_.reset();  // a new prompt starts a new generation
    if (prompt.empty()) return Error{"empty prompt"};
    size_t keep = 0;
    while (keep < prompt.size() && keep < tokens_.size() && prompt[keep] == tokens_[keep]) ++keep;
    // The last prompt token is always evaluated so its logits are fresh.
    keep = std::min(keep, prompt.size() - 1);
    SMOL_TRY(session_->truncate(static_cast<int>(keep)));
    tokens_.resize(keep);
    Status st = session_->eval(prompt.subspan(keep));
    if (!st.ok()) return Error{st.error()};
    tokens_.assign(prompt.begin(), prompt.end());
    return static_cast<int>(keep);
  }

  Result<int32_t> step(const Sampling& sampling) override {
    int32_t id = sample(sampling);
    if (ends_generation(id)) return id;
    Status st = session_->eval(std::span(&id, 1));
    if (!st.ok()) return Error{st.error()};
    evaluated(id);
    return id;
  }

  // step() in halves, for EngineBackend::step_many, which evaluates many sequences' tokens in
  // one engine::BatchDecoder pass between the halves.
  int32_t sample(const Sampling& sampling) {
    if (!sampler_) {
      auto params = sampler_params(sampling, 64, session_->model().tokenizer());
      sampler_ = std::make_unique<engine::Sampler>(params, session_->model().config().n_vocab);
      size_t from = tokens_.size() > 64 ? tokens_.size() - 64 : 0;
      for (size_t i = from; i < tokens_.size(); ++i) sampler_->accept(tokens_[i]);
    }
    int32_t id = sampler_->sample(session_->logits());
    sampler_->accept(id);
    return id;
  }
  bool ends_generation(int32_t id) const {
    const auto* tok = session_->model().tokenizer();
    return tok && tok->is_eog(id);
  }
  void evaluated(int32_t id) { tokens_.push_back(id); }  // id's K/V are now in the cache
  engine::Session& session() { return *session_; }

  const std::vector<int32_t>& tokens() const override { return tokens_; }

  void clear() override {
    (void)session_->truncate(0);
    tokens_.clear();
    sampler_.reset();
  }

 private:
  std::unique_ptr<engine::Session> session_;
  std::vector<int32_t> tokens_;  // mirrors the KV cache positions
  std::unique_ptr<engine::Sampler> sampler_;
};

class ChatOutputParser : public OutputParser {
 public:
  explicit ChatOutputParser(bool starts_in_reasoning)
      : parser_(chat::OutputParserOptions{starts_in_reasoning, true, true}) {}
  std::vector<ParsedPiece> feed(std::string_view text) override {
    return convert(parser_.feed(text));
  }
  std::vector<ParsedPiece> finish() override { return convert(parser_.finish()); }

 private:
  static std::vector<ParsedPiece> convert(std::vector<chat::OutputEvent> events) {
    std::vector<ParsedPiece> out;
    for (auto& e : events) {
      switch (e.kind) {
        case chat::OutputEventKind::kReasoning:
          out.push_back({PieceKind::kThinking, std::move(e.text), ""});
          break;
        case chat::OutputEventKind::kAnswer:
          out.push_back({PieceKind::kText, std::move(e.text), ""});
          break;
        case chat::OutputEventKind::kToolCall:
          out.push_back({PieceKind::kToolCall, e.tool_call.name, e.tool_call.arguments.dump()});
          break;
        case chat::OutputEventKind::kWarning:
          std::fprintf(stderr, "smolbot: output parser: %s\n", e.text.c_str());
          break;
      }
    }
    return out;
  }
  chat::OutputParser parser_;
};

// OpenAI "tools" entries -> the function objects SmolLM3's template lists as xml_tools.
Json xml_tools(const std::string& tools_json) {
  Json tools = Json::parse(tools_json, nullptr, false);
  Json out = Json::array();
  if (!tools.is_array()) return out;
  for (const auto& t : tools) {
    if (t.is_object() && t.contains("function") && t["function"].is_object()) {
      out.push_back(t["function"]);
    } else {
      out.push_back(t);
    }
  }
  return out;
}

Json message_context(const Message& m) {
  Json j = {{"role", m.role}, {"content", m.content}};
  if (!m.reasoning.empty()) j["reasoning_content"] = m.reasoning;
  if (!m.tool_calls_json.empty()) {
    Json calls = Json::parse(m.tool_calls_json, nullptr, false);
    Json out = Json::array();
    if (calls.is_array()) {
      for (const auto& c : calls) {
        out.push_back(
            {{"id", c.value("id", "")},
             {"type", "function"},
             {"function",
              {{"name", c.value("name", "")}, {"arguments", c.value("arguments", "{}")}}}});
      }
    }
    j["tool_calls"] = out;
  }
  return j;
}

class EngineBackend : public Backend {
 public:
  EngineBackend(std::unique_ptr<engine::Model> model, BackendInfo info,
                std::vector<std::unique_ptr<engine::Session>> sessions,
                std::unique_ptr<engine::BatchDecoder> decoder)
      : model_(std::move(model)),
        info_(std::move(info)),
        sessions_(std::move(sessions)),
        decoder_(std::move(decoder)) {}

  const BackendInfo& info() const override { return info_; }

  Result<std::string> render(const std::vector<Message>& messages, const PromptOptions& options,
                             bool add_generation_prompt) override {
    if (!options.tools_json.empty() &&
        !Json::parse(options.tools_json, nullptr, false).is_array()) {
      return Error{"tools must be a JSON array"};
    }
    Json ctx = {{"messages", Json::array()},
                {"add_generation_prompt", add_generation_prompt},
                {"enable_thinking", options.enable_thinking}};
    for (const auto& m : messages) ctx["messages"].push_back(message_context(m));
    if (!options.tools_json.empty()) {
      ctx["xml_tools"] = xml_tools(options.tools_json);
      ctx["tools"] = Json::parse(options.tools_json);
    }
    auto prompt = chat::render_chat(info_.chat_template, ctx);
    if (!prompt.ok()) return Error{"chat template: " + prompt.error()};
    if (prompt->used_fallback && !warned_fallback_) {
      warned_fallback_ = true;
      std::fprintf(stderr, "smolbot: using plain ChatML: %s\n", prompt->fallback_reason.c_str());
    }
    return std::move(prompt->text);
  }

  Result<std::vector<int32_t>> tokenize(std::string_view text) override {
    return tokenizer().encode(text, true);
  }

  std::string detokenize(std::span<const int32_t> tokens) override {
    std::string out;
    for (int32_t id : tokens) {
      if (id < 0 || id >= tokenizer().n_vocab()) continue;
      bool special = tokenizer().token_type(id) == tokenizer::TokenType::kControl &&
                     parser_tag(tokenizer().token_text(id));
      (void)tokenizer().append_piece(id, special, out);
    }
    return out;
  }

  bool is_end_of_generation(int32_t token) const override { return tokenizer().is_eog(token); }

  std::unique_ptr<Sequence> new_sequence() override {
    SMOL_CHECK(next_session_ < sessions_.size(), "more sequences requested than slots");
    return std::make_unique<EngineSequence>(std::move(sessions_[next_session_++]));
  }

  // Samples every sequence's token, then evaluates all that continue in one batched forward
  // pass. If that pass is refused (it changes nothing then), each is evaluated alone so that
  // only the sequence at fault gets an error.
  std::vector<Result<int32_t>> step_many(std::span<Sequence* const> sequences,
                                         std::span<const Sampling> sampling) override {
    const size_t n = sequences.size();
    std::vector<int32_t> sampled(n);
    std::vector<std::optional<std::string>> failed(n);
    std::vector<EngineSequence*> seqs;  // the sequences that evaluate their token
    std::vector<engine::Session*> sessions;
    std::vector<size_t> index;  // [seqs] position in the input
    std::vector<int32_t> ids;
    for (size_t i = 0; i < n; ++i) {
      auto* seq = dynamic_cast<EngineSequence*>(sequences[i]);
      SMOL_CHECK(seq != nullptr, "step_many: a sequence of another backend");
      sampled[i] = seq->sample(sampling[i]);
      if (seq->ends_generation(sampled[i])) continue;
      seqs.push_back(seq);
      sessions.push_back(&seq->session());
      index.push_back(i);
      ids.push_back(sampled[i]);
    }
    if (!seqs.empty()) {
      if (decoder_->decode(sessions, ids).ok()) {
        for (size_t j = 0; j < seqs.size(); ++j) seqs[j]->evaluated(ids[j]);
      } else {
        for (size_t j = 0; j < seqs.size(); ++j) {
          Status st = sessions[j]->eval(std::span(&ids[j], 1));
          if (st.ok()) {
            seqs[j]->evaluated(ids[j]);
          } else {
            failed[index[j]] = st.error();
          }
        }
      }
    }
    std::vector<Result<int32_t>> out;
    out.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      if (failed[i]) {
        out.emplace_back(Error{*failed[i]});
      } else {
        out.emplace_back(sampled[i]);
      }
    }
    return out;
  }

  std::unique_ptr<OutputParser> new_parser(const std::string& prompt) override {
    size_t end = prompt.find_last_not_of(" \n");
    bool open = end != std::string::npos && end >= 6 && prompt.compare(end - 6, 7, "<think>") == 0;
    return std::make_unique<ChatOutputParser>(open);
  }

 private:
  const tokenizer::Tokenizer& tokenizer() const { return *model_->tokenizer(); }

  std::unique_ptr<engine::Model> model_;
  BackendInfo info_;
  std::vector<std::unique_ptr<engine::Session>> sessions_;
  std::unique_ptr<engine::BatchDecoder> decoder_;  // for up to n_slots sequences
  size_t next_session_ = 0;
  bool warned_fallback_ = false;
};

}  // namespace

Result<std::unique_ptr<Backend>> load_engine_backend(const EngineBackendOptions& options) {
  if (options.n_threads > 0) kernels::set_num_threads(options.n_threads);
  auto model = engine::Model::load(options.model_path);
  if (!model.ok()) return Error{model.error()};
  if (!(*model)->tokenizer()) return Error{options.model_path + ": model has no tokenizer"};
  BackendInfo info;
  info.model_path = options.model_path;
  const auto& file = (*model)->file();
  auto name = file.get_string("general.name");
  info.model_name =
      name.ok() ? std::string(*name) : std::filesystem::path(options.model_path).stem().string();
  auto tmpl = file.get_string("tokenizer.chat_template");
  if (tmpl.ok()) info.chat_template = std::string(*tmpl);
  info.n_vocab = (*model)->config().n_vocab;

  engine::SessionOptions so;
  so.n_ctx = options.n_ctx;
  std::vector<std::unique_ptr<engine::Session>> sessions;
  auto first = engine::Session::create(**model, so);
  if (!first.ok()) return Error{"cannot create a session: " + first.error()};
  const size_t kv = std::max<size_t>(1, (*first)->kv_bytes());
  info.n_ctx = (*first)->n_ctx();
  int slots =
      options.n_slots > 0 ? options.n_slots : static_cast<int>(options.kv_budget_bytes / kv);
  slots = std::clamp(slots, 1, kMaxSlots);
  sessions.push_back(std::move(first).value());
  while (static_cast<int>(sessions.size()) < slots) {
    auto s = engine::Session::create(**model, so);
    if (!s.ok())
      return Error{"cannot create session " + std::to_string(sessions.size()) + ": " + s.error()};
    sessions.push_back(std::move(s).value());
  }
  info.n_slots = slots;
  auto decoder = engine::BatchDecoder::create(**model, slots);
  if (!decoder.ok()) return Error{"cannot create the batch decoder: " + decoder.error()};
  return std::unique_ptr<Backend>(new EngineBackend(
      std::move(model).value(), std::move(info), std::move(sessions), std::move(decoder).value()));
}

}  // namespace smol::net
