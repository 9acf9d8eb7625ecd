// A deterministic Backend for unit tests of the HTTP layer only (style: the server tests that
// matter run the real engine on the synthetic model, see server_test.cpp).
//
// Tokens are bytes (id = byte value, 256 = end of generation). The "model" replies with a script
// chosen from the last user turn: "LONG" streams forever (until max_tokens or stop), "TOOL"
// answers with a tool call, "NUL" thinks and answers with a U+0000 inside, anything else thinks
// briefly and says "Hello world". Output goes through the real smol_chat OutputParser.
#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "smol/backend.h"
#include "smol/output_parser.h"

namespace smol::net::testing {

struct Script {
  std::atomic<int> delay_ms{0};  // per generated token
  std::atomic<int> load_ms{0};   // time the "model" takes to load
  std::atomic<int> steps{0};     // tokens produced so far, all sequences
};

class ScriptedSequence : public Sequence {
 public:
  explicit ScriptedSequence(Script& script) : script_(script) {}

  Result<int> prefill(std::span<const int32_t> prompt) override {
    size_t keep = 0;
    while (keep < prompt.size() && keep < tokens_.size() && prompt[keep] == tokens_[keep]) ++keep;
    if (keep == prompt.size() && keep > 0) --keep;
    tokens_.assign(prompt.begin(), prompt.end());
    std::string text(prompt.begin(), prompt.end());
    size_t last_user = text.rfind("<|im_start|>user");
    std::string turn = last_user == std::string::npos ? "" : text.substr(last_user);
    long_ = turn.find("LONG") != std::string::npos;
    using namespace std::string_literals;
    reply_ = turn.find("TOOL") != std::string::npos
                 ? "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": "
                   "\"Paris\"}}\n</tool_call>"s
             : turn.find("NUL") != std::string::npos ? "<think>\nh\0m\n</think>\nHello\0world"s
                                                     : "<think>\nhmm\n</think>\nHello world"s;
    pos_ = 0;
    return static_cast<int>(keep);
  }

  Result<int32_t> step(const Sampling&) override {
    if (int d = script_.delay_ms.load()) std::this_thread::sleep_for(std::chrono::milliseconds(d));
    ++script_.steps;
    int32_t id;
    if (long_) {
      static const std::string kLorem = "lorem ipsum ";
      id = static_cast<unsigned char>(kLorem[pos_++ % kLorem.size()]);
    } else if (pos_ < reply_.size()) {
      id = static_cast<unsigned char>(reply_[pos_++]);
    } else {
      return 256;
    }
    tokens_.push_back(id);
    return id;
  }

  const std::vector<int32_t>& tokens() const override { return tokens_; }
  void clear() override { tokens_.clear(); }

 private:
  Script& script_;
  std::vector<int32_t> tokens_;
  std::string reply_;
  size_t pos_ = 0;
  bool long_ = false;
};

class ScriptedParser : public OutputParser {
 public:
  std::vector<ParsedPiece> feed(std::string_view text) override { return convert(p_.feed(text)); }
  std::vector<ParsedPiece> finish() override { return convert(p_.finish()); }

 private:
  static std::vector<ParsedPiece> convert(const std::vector<chat::OutputEvent>& events) {
    std::vector<ParsedPiece> out;
    for (const auto& e : events) {
      if (e.kind == chat::OutputEventKind::kReasoning)
        out.push_back({PieceKind::kThinking, e.text, ""});
      if (e.kind == chat::OutputEventKind::kAnswer) out.push_back({PieceKind::kText, e.text, ""});
      if (e.kind == chat::OutputEventKind::kToolCall) {
        out.push_back({PieceKind::kToolCall, e.tool_call.name, e.tool_call.arguments.dump()});
      }
    }
    return out;
  }
  chat::OutputParser p_;
};

class ScriptedBackend : public Backend {
 public:
  explicit ScriptedBackend(Script& script) : script_(script) {
    info_.model_name = "scripted";
    info_.n_ctx = 4096;
    info_.n_vocab = 257;
    info_.n_slots = 2;
    info_.chat_template = "(chatml)";
  }
  const BackendInfo& info() const override { return info_; }
  Result<std::string> render(const std::vector<Message>& messages, const PromptOptions& options,
                             bool add_generation_prompt) override {
    std::string out;
    for (const auto& m : messages)
      out += "<|im_start|>" + m.role + "\n" + m.content + "<|im_end|>\n";
    if (add_generation_prompt) out += "<|im_start|>assistant\n";
    if (!options.enable_thinking) out += "<think>\n\n</think>\n";
    return out;
  }
  Result<std::vector<int32_t>> tokenize(std::string_view text) override {
    return std::vector<int32_t>(reinterpret_cast<const unsigned char*>(text.data()),
                                reinterpret_cast<const unsigned char*>(text.data()) + text.size());
  }
  std::string detokenize(std::span<const int32_t> tokens) override {
    std::string s;
    for (int32_t t : tokens) {
      if (t < 256) s += static_cast<char>(t);
    }
    return s;
  }
  bool is_end_of_generation(int32_t token) const override { return token == 256; }
  std::unique_ptr<Sequence> new_sequence() override {
    return std::make_unique<ScriptedSequence>(script_);
  }
  std::unique_ptr<OutputParser> new_parser(const std::string&) override {
    return std::make_unique<ScriptedParser>();
  }

 private:
  Script& script_;
  BackendInfo info_;
};

}  // namespace smol::net::testing
