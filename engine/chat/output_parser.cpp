#include "smol/output_parser.h"

#include <algorithm>
#include <array>

namespace smol::chat {
namespace {

constexpr std::string_view kThinkOpen = "<think>";
constexpr std::string_view kThinkClose = "</think>";
constexpr std::string_view kToolOpen = "<tool_call>";
constexpr std::string_view kToolClose = "</tool_call>";
// A tool call body longer than this is not a tool call we can use; it is released as text so a
// runaway generation cannot grow the buffer without bound.
constexpr size_t kMaxToolCallBytes = 256 * 1024;

bool is_ws(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_ws(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ws(s.back())) s.remove_suffix(1);
  return s;
}

// Length of the longest suffix of `text` that is a proper prefix of `tag` (a tag that may still
// be completed by the next piece).
size_t partial_tag_suffix(std::string_view text, std::string_view tag) {
  size_t longest = std::min(text.size(), tag.size() - 1);
  for (size_t k = longest; k > 0; --k) {
    if (text.substr(text.size() - k) == tag.substr(0, k)) return k;
  }
  return 0;
}

struct ParsedCall {
  bool ok = false;
  std::string problem;
  ToolCall call;
};

// `raw` is the text between <tool_call> and </tool_call>: a JSON object, optionally inside a
// ``` / ```json fence. Arguments given as a JSON string are decoded.
ParsedCall parse_tool_call(const std::string& raw) {
  ParsedCall result;
  result.call.raw = raw;
  std::string_view body = trim(raw);
  if (body.substr(0, 3) == "```") {
    size_t eol = body.find('\n');
    body = eol == std::string_view::npos ? std::string_view() : body.substr(eol + 1);
    body = trim(body);
    if (body.size() >= 3 && body.substr(body.size() - 3) == "```") body.remove_suffix(3);
    body = trim(body);
  }
  auto j = nlohmann::ordered_json::parse(body.begin(), body.end(), nullptr, false);
  if (j.is_discarded()) {
    result.problem = "tool call is not valid JSON";
    return result;
  }
  if (!j.is_object()) {
    result.problem = "tool call JSON is not an object";
    return result;
  }
  auto name = j.find("name");
  if (name == j.end() || !name->is_string() || name->get<std::string>().empty()) {
    result.problem = "tool call has no \"name\" string";
    return result;
  }
  result.call.name = name->get<std::string>();
  auto args = j.find("arguments");
  if (args == j.end()) args = j.find("parameters");
  if (args == j.end() || args->is_null()) {
    result.call.arguments = nlohmann::ordered_json::object();
  } else if (args->is_string()) {
    const std::string& text = args->get_ref<const std::string&>();
    auto decoded = nlohmann::ordered_json::parse(text, nullptr, false);
    if (decoded.is_discarded() || !decoded.is_object()) {
      result.problem = "tool call \"arguments\" string is not a JSON object";
      return result;
    }
    result.call.arguments = std::move(decoded);
  } else if (args->is_object()) {
    result.call.arguments = *args;
  } else {
    result.problem = "tool call \"arguments\" is not an object";
    return result;
  }
  result.ok = true;
  return result;
}

}  // namespace

OutputParser::OutputParser(OutputParserOptions options) : options_(options) {
  if (options_.starts_in_reasoning) state_ = State::kReasoning;
}

std::vector<OutputEvent> OutputParser::feed(std::string_view piece) {
  std::vector<OutputEvent> out;
  pending_.append(piece);
  process(false, out);
  return out;
}

std::vector<OutputEvent> OutputParser::finish() {
  std::vector<OutputEvent> out;
  process(true, out);
  if (state_ == State::kReasoning) {
    reasoning_unclosed_ = true;
    emit(OutputEventKind::kWarning, "output ended inside a <think> block (no </think>)", out);
  } else if (state_ == State::kToolCall) {
    std::string text = std::string(kToolOpen) + tool_buffer_;
    tool_buffer_.clear();
    state_ = State::kAnswer;
    emit(OutputEventKind::kAnswer, text, out);
    emit(OutputEventKind::kWarning, "output ended inside a <tool_call> block; kept as text", out);
  }
  reasoning_ws_.clear();
  return out;
}

void OutputParser::emit(OutputEventKind kind, std::string_view text,
                        std::vector<OutputEvent>& out) {
  std::string held;
  if (kind == OutputEventKind::kAnswer || kind == OutputEventKind::kReasoning) {
    // Whitespace right after a tag (and, for reasoning, right before </think>) is layout, not
    // content: the template writes "<think>\n...\n</think>\n".
    if (at_block_start_) {
      while (!text.empty() && is_ws(text.front())) text.remove_prefix(1);
      if (text.empty()) return;
      at_block_start_ = false;
    }
    if (kind == OutputEventKind::kReasoning) {
      size_t end = text.size();
      while (end > 0 && is_ws(text[end - 1])) --end;
      if (end == 0) {
        reasoning_ws_.append(text);
        return;
      }
      held = std::move(reasoning_ws_);
      held.append(text.substr(0, end));
      reasoning_ws_ = std::string(text.substr(end));
      text = held;
      reasoning_.append(text);
    } else {
      answer_started_ = true;
      answer_.append(text);
    }
  }
  bool mergeable = kind == OutputEventKind::kAnswer || kind == OutputEventKind::kReasoning;
  if (mergeable && !out.empty() && out.back().kind == kind) {
    out.back().text.append(text);
    return;
  }
  OutputEvent event;
  event.kind = kind;
  event.text = std::string(text);
  out.push_back(std::move(event));
}

void OutputParser::finish_tool_call(std::vector<OutputEvent>& out) {
  ParsedCall parsed = parse_tool_call(tool_buffer_);
  if (parsed.ok) {
    tool_calls_.push_back(parsed.call);
    OutputEvent event;
    event.kind = OutputEventKind::kToolCall;
    event.tool_call = std::move(parsed.call);
    out.push_back(std::move(event));
  } else {
    std::string text = std::string(kToolOpen) + tool_buffer_ + std::string(kToolClose);
    at_block_start_ = false;  // keep the malformed block verbatim
    emit(OutputEventKind::kAnswer, text, out);
    emit(OutputEventKind::kWarning, parsed.problem + "; kept as text", out);
  }
  tool_buffer_.clear();
  at_block_start_ = true;  // the newline after </tool_call> is layout
}

void OutputParser::process(bool at_end, std::vector<OutputEvent>& out) {
  while (!pending_.empty()) {
    std::array<std::string_view, 2> tags{};
    size_t n_tags = 0;
    if (state_ == State::kAnswer) {
      if (options_.parse_tool_calls) tags[n_tags++] = kToolOpen;
      if (!answer_started_ || !options_.think_only_at_start) tags[n_tags++] = kThinkOpen;
    } else if (state_ == State::kReasoning) {
      tags[n_tags++] = kThinkClose;
    } else {
      tags[n_tags++] = kToolClose;
    }
    // With think_only_at_start, <think> counts only if nothing but whitespace precedes it.
    size_t think_limit = std::string::npos;
    if (state_ == State::kAnswer && options_.think_only_at_start) {
      think_limit = pending_.find_first_not_of(" \n\r\t");
    }
    auto usable = [&](std::string_view tag, size_t pos) {
      return tag != kThinkOpen || think_limit == std::string::npos || pos <= think_limit;
    };
    size_t best = std::string::npos;
    std::string_view best_tag;
    for (size_t k = 0; k < n_tags; ++k) {
      size_t pos = pending_.find(tags[k]);
      if (pos < best && usable(tags[k], pos)) {
        best = pos;
        best_tag = tags[k];
      }
    }
    if (best == std::string::npos) {
      size_t hold = 0;
      if (!at_end) {
        for (size_t k = 0; k < n_tags; ++k) {
          size_t partial = partial_tag_suffix(pending_, tags[k]);
          if (partial > 0 && usable(tags[k], pending_.size() - partial)) {
            hold = std::max(hold, partial);
          }
        }
      }
      std::string ready = pending_.substr(0, pending_.size() - hold);
      pending_.erase(0, ready.size());
      if (state_ == State::kToolCall) {
        tool_buffer_ += ready;
        if (tool_buffer_.size() > kMaxToolCallBytes) {
          std::string text = std::string(kToolOpen) + tool_buffer_;
          tool_buffer_.clear();
          state_ = State::kAnswer;
          at_block_start_ = false;
          emit(OutputEventKind::kAnswer, text, out);
          emit(OutputEventKind::kWarning, "tool call longer than 256 KiB; kept as text", out);
        }
      } else if (!ready.empty()) {
        emit(state_ == State::kAnswer ? OutputEventKind::kAnswer : OutputEventKind::kReasoning,
             ready, out);
      }
      return;
    }
    std::string before = pending_.substr(0, best);
    pending_.erase(0, best + best_tag.size());
    if (state_ == State::kToolCall) {
      tool_buffer_ += before;
      state_ = State::kAnswer;
      finish_tool_call(out);
      continue;
    }
    if (!before.empty()) {
      emit(state_ == State::kAnswer ? OutputEventKind::kAnswer : OutputEventKind::kReasoning,
           before, out);
    }
    if (best_tag == kThinkOpen) {
      state_ = State::kReasoning;
      at_block_start_ = true;
    } else if (best_tag == kThinkClose) {
      state_ = State::kAnswer;
      reasoning_ws_.clear();
      at_block_start_ = true;
    } else {  // <tool_call>
      state_ = State::kToolCall;
    }
  }
}

}  // namespace smol::chat
