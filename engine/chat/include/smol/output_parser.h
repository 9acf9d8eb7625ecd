// smol/output_parser.h — splits a model's streamed output into reasoning, answer text and tool
// calls while it is being generated.
//
// SmolLM3 (like Qwen3 / Hermes-style models) writes
//   <think>\n...reasoning...\n</think>\nanswer text <tool_call>\n{"name": ..., "arguments":
//   {...}}\n</tool_call>
// Token pieces arrive in arbitrary splits, so a tag may be cut at any byte: the parser holds back
// the shortest tail that could still become a tag and never emits a tag's bytes as text.
//
// Goals: every byte of input ends up as reasoning, answer, or a tool call (whose raw text is
// kept), except the tags themselves and the layout whitespace around blocks (leading whitespace
// of the answer / of a think block / after </tool_call>, trailing whitespace before </think>);
// malformed tool JSON becomes answer text plus a kWarning event, never an error or a crash; an
// unclosed think block at end of stream (length limit) is flushed as reasoning and flagged.
// A "</think>" with no opening tag is answer text (SmolLM3 always writes the opening tag).
// Non-goals: `<code>` python-tool blocks are left in the answer text; no token ids (the parser
// sees text only, so the detokenizer must keep special tokens such as <think> visible).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace smol::chat {

enum class OutputEventKind {
  kReasoning,  // text inside <think>...</think>
  kAnswer,     // text outside think blocks and tool calls
  kToolCall,   // a complete, parsed <tool_call> block
  kWarning,    // something was off (bad tool JSON, unclosed block); text says what
};

struct ToolCall {
  std::string name;
  nlohmann::ordered_json arguments;  // an object (a JSON-string "arguments" is decoded)
  std::string raw;                   // the text between the tags, as generated
};

struct OutputEvent {
  OutputEventKind kind;
  std::string text;    // reasoning / answer text, or the warning message
  ToolCall tool_call;  // kToolCall only
};

struct OutputParserOptions {
  // The prompt already opened a think block (templates that end with "<think>\n"): output starts
  // as reasoning. SmolLM3's no-think prompt *closes* an empty block instead, so leave this false.
  bool starts_in_reasoning = false;
  // Recognise <think> only before any answer text (a model quoting the tag later in its answer
  // is text). Default true.
  bool think_only_at_start = true;
  bool parse_tool_calls = true;
};

class OutputParser {
 public:
  explicit OutputParser(OutputParserOptions options = {});

  // Feeds the next piece; returns the events it completes (adjacent texts of one kind merged).
  std::vector<OutputEvent> feed(std::string_view piece);
  // End of stream: flushes held-back bytes; an open think block is emitted as reasoning followed
  // by a kWarning, an open tool call as answer text followed by a kWarning.
  std::vector<OutputEvent> finish();

  bool reasoning_unclosed() const { return reasoning_unclosed_; }
  // Everything emitted so far, by kind (convenience for non-streaming callers).
  const std::string& reasoning() const { return reasoning_; }
  const std::string& answer() const { return answer_; }
  const std::vector<ToolCall>& tool_calls() const { return tool_calls_; }

 private:
  enum class State { kAnswer, kReasoning, kToolCall };

  void process(bool at_end, std::vector<OutputEvent>& out);
  void emit(OutputEventKind kind, std::string_view text, std::vector<OutputEvent>& out);
  void finish_tool_call(std::vector<OutputEvent>& out);

  OutputParserOptions options_;
  State state_ = State::kAnswer;
  std::string pending_;          // bytes not yet classified (possible tag prefix)
  std::string tool_buffer_;      // body of the open <tool_call>
  std::string reasoning_ws_;     // whitespace held back before a possible </think>
  bool answer_started_ = false;  // non-whitespace answer text was emitted
  bool at_block_start_ = true;   // just after <think> / </think> / start: leading \n dropped
  bool reasoning_unclosed_ = false;
  std::string reasoning_;
  std::string answer_;
  std::vector<ToolCall> tool_calls_;
};

}  // namespace smol::chat
