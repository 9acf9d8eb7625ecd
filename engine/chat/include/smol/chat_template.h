// smol/chat_template.h — renders a model's chat template (the Jinja text stored in the GGUF key
// `tokenizer.chat_template`) with our own interpreter for the Jinja subset chat templates use.
//
// Goals: byte-for-byte the text Hugging Face's `apply_chat_template` produces, i.e. Jinja 3 with
// the environment transformers builds: trim_blocks, lstrip_blocks, loop controls, a no-op
// `{% generation %}` tag, `tojson` = Python json.dumps(ensure_ascii=False) (no key sorting, no
// HTML escaping), globals raise_exception(msg) and strftime_now(fmt). Values print as Python's
// str() prints them (single-quoted reprs, True/False/None), which the SmolLM3 template relies on
// when it renders tools with `|string`. Templates come from untrusted files: a construct we do not
// support is reported at parse time with its line; recursion, loop work and output size are
// bounded at render time. Nothing here throws across the API.
//
// Non-goals: template inheritance/include/import (a chat template is one string), autoescape,
// Python objects beyond JSON data + the few callables above, full Unicode case mapping (upper /
// lower / title change ASCII letters only). docs/chat.md lists the supported subset.
#pragma once

#include <cstdint>
#include <ctime>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "smol/result.h"

namespace smol::chat {

// Object key order matters (tools print in the order the caller wrote them, as Python dicts do),
// so contexts are ordered JSON.
using Json = nlohmann::ordered_json;

// How template text becomes tokens. The defaults are transformers' settings.
struct ParseOptions {
  bool trim_blocks = true;    // drop the first newline after a block or comment tag
  bool lstrip_blocks = true;  // drop spaces/tabs before a block or comment tag at line start
  int max_nesting = 100;      // deepest expression / block nesting accepted (stack safety)
};

// Bounds that turn a hostile or runaway template into an Error instead of a hang or a crash.
struct RenderLimits {
  size_t max_output_bytes = 16u << 20;  // also caps any single string value
  uint64_t max_steps = 1'000'000;       // evaluated statements + expressions + loop iterations
  int max_call_depth = 32;              // nested macro / caller() calls
  size_t max_list_size = 100'000;       // range(), string/list repetition
};

struct RenderOptions {
  // The time strftime_now() formats. Unset: the local time when render() runs.
  std::function<std::tm()> now;
  RenderLimits limits;
};

// A parsed template; cheap to copy (the syntax tree is shared and immutable).
class Template {
 public:
  // Parse errors say what and where: "chat template line 12: unsupported tag 'include'".
  static Result<Template> parse(std::string_view source, const ParseOptions& options = {});

  // `context` is a JSON object whose members become template variables, typically messages,
  // add_generation_prompt, enable_thinking (omit it to get the template's default), tools,
  // xml_tools, python_tools, bos_token. Errors (raise_exception, type errors, limits) carry the
  // template line.
  Result<std::string> render(const Json& context, const RenderOptions& options = {}) const;

  struct Impl;

 private:
  std::shared_ptr<const Impl> impl_;
};

// A rendered prompt, or a plain ChatML prompt when the model's template could not be used.
struct ChatPrompt {
  std::string text;
  bool used_fallback = false;
  std::string fallback_reason;  // the parse error, when used_fallback
};

// Renders `template_source`; if it is empty or fails to parse, renders plain ChatML instead
// (`<|im_start|>{role}\n{content}<|im_end|>\n` per message, then `<|im_start|>assistant\n` when
// add_generation_prompt) and says why. Render-time errors (e.g. the template's own
// raise_exception) are returned as errors, not papered over.
Result<ChatPrompt> render_chat(std::string_view template_source, const Json& context,
                               const RenderOptions& options = {});

// Plain ChatML rendering of context["messages"] (string contents; other contents render empty).
std::string render_chatml(const Json& context);

// Parses "09 July 2025", "9 Jul 2025" or "2025-07-09" (optionally "2025-07-09T14:30:00") into a
// calendar time with the weekday filled in, for fixed-date rendering (tests, --date).
Result<std::tm> parse_date(std::string_view text);

}  // namespace smol::chat
