// smolbot apply-template: renders the model's chat template (GGUF `tokenizer.chat_template`) for a
// conversation and prints the prompt exactly, byte for byte (no newline added). For tests and for
// users debugging prompts.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "args.h"
#include "command.h"
#include "smol/chat_template.h"
#include "smol/gguf.h"

namespace smolbot {
namespace {

constexpr const char* kUsage =
    "usage: smolbot apply-template (--model F | --template F.jinja) --messages FILE.json\n"
    "                              [--think | --no-think] [--date \"09 July 2025\"]\n"
    "                              [--xml-tools FILE.json] [--python-tools FILE.json]\n"
    "                              [--tools FILE.json] [--no-generation-prompt]\n"
    "Prints the rendered prompt exactly (no trailing newline is added).\n"
    "  --messages F      OpenAI-style [{\"role\": ..., \"content\": ...}, ...] (or {\"messages\": "
    "[...]});\n"
    "                    '-' reads standard input\n"
    "  --think/--no-think  pass enable_thinking=true/false (default: leave it to the template)\n"
    "  --date D          the date strftime_now() sees (default: today)\n"
    "  --xml-tools F, --python-tools F, --tools F   JSON arrays passed as those variables\n"
    "  --template F      use this Jinja file instead of the model's template\n"
    "If the template cannot be parsed, plain ChatML is printed and the reason goes to stderr.\n";

smol::Result<std::string> read_file(const std::string& path) {
  std::stringstream ss;
  if (path == "-") {
    ss << std::cin.rdbuf();
    return ss.str();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return smol::Error{"cannot open " + path};
  ss << in.rdbuf();
  return ss.str();
}

smol::Result<smol::chat::Json> read_json(const std::string& path) {
  auto text = read_file(path);
  if (!text) return smol::Error{text.error()};
  auto j = smol::chat::Json::parse(*text, nullptr, false);
  if (j.is_discarded()) return smol::Error{path + ": not valid JSON"};
  return j;
}

// The template and the special-token strings a template may use (bos_token, eos_token).
struct ModelTemplate {
  std::string source;
  smol::chat::Json tokens = smol::chat::Json::object();
};

smol::Result<ModelTemplate> template_from_model(const std::string& path) {
  auto file = smol::gguf::File::open(path);
  if (!file) return smol::Error{file.error()};
  ModelTemplate out;
  if (file->has("tokenizer.chat_template")) {
    auto text = file->get_string("tokenizer.chat_template");
    if (!text) return smol::Error{text.error()};
    out.source = std::string(*text);
  }
  auto vocab = file->get_string_array("tokenizer.ggml.tokens");
  if (vocab) {
    for (const char* key : {"bos", "eos"}) {
      auto id = file->get_int(std::string("tokenizer.ggml.") + key + "_token_id");
      if (id && *id >= 0 && static_cast<uint64_t>(*id) < vocab->size()) {
        out.tokens[std::string(key) + "_token"] = std::string((*vocab)[*id]);
      }
    }
  }
  return out;
}

int fail(const std::string& message) {
  std::fprintf(stderr, "smolbot apply-template: %s\n", message.c_str());
  return 1;
}

int run_apply_template(int argc, char** argv) {
  auto args = Args::parse(
      argc, argv,
      {"--model", "--template", "--messages", "--date", "--xml-tools", "--python-tools", "--tools"},
      {"--think", "--no-think", "--no-generation-prompt", "--help"});
  if (!args) {
    std::fprintf(stderr, "smolbot apply-template: %s\n%s", args.error().c_str(), kUsage);
    return 2;
  }
  if (args->has("--help")) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (!args->get("--messages") || (!args->get("--model") && !args->get("--template")) ||
      (args->has("--think") && args->has("--no-think"))) {
    std::fputs(kUsage, stderr);
    return 2;
  }

  ModelTemplate model;
  if (auto path = args->get("--model")) {
    auto m = template_from_model(*path);
    if (!m) return fail(m.error());
    model = std::move(*m);
  }
  if (auto path = args->get("--template")) {
    auto text = read_file(*path);
    if (!text) return fail(text.error());
    model.source = std::move(*text);
  }

  smol::chat::Json context = model.tokens;
  auto messages = read_json(*args->get("--messages"));
  if (!messages) return fail(messages.error());
  if (messages->is_object() && messages->contains("messages")) {
    *messages = (*messages)["messages"];
  }
  if (!messages->is_array()) return fail("--messages: expected a JSON array of messages");
  context["messages"] = std::move(*messages);
  context["add_generation_prompt"] = !args->has("--no-generation-prompt");
  if (args->has("--think")) context["enable_thinking"] = true;
  if (args->has("--no-think")) context["enable_thinking"] = false;
  for (const char* option : {"--xml-tools", "--python-tools", "--tools"}) {
    auto path = args->get(option);
    if (!path) continue;
    auto tools = read_json(*path);
    if (!tools) return fail(tools.error());
    if (!tools->is_array()) return fail(std::string(option) + ": expected a JSON array");
    std::string name = std::string(option + 2);
    for (char& c : name) c = c == '-' ? '_' : c;
    context[name] = std::move(*tools);
  }

  smol::chat::RenderOptions options;
  if (auto date = args->get("--date")) {
    auto tm = smol::chat::parse_date(*date);
    if (!tm) return fail(tm.error());
    options.now = [value = *tm] { return value; };
  }
  auto prompt = smol::chat::render_chat(model.source, context, options);
  if (!prompt) return fail(prompt.error());
  if (prompt->used_fallback) {
    std::fprintf(stderr, "smolbot apply-template: using plain ChatML: %s\n",
                 prompt->fallback_reason.c_str());
  }
  std::fwrite(prompt->text.data(), 1, prompt->text.size(), stdout);
  return std::fflush(stdout) == 0 ? 0 : 1;
}

}  // namespace
}  // namespace smolbot

SMOLBOT_COMMAND("apply-template", "render the model's chat template for a conversation",
                smolbot::run_apply_template);
