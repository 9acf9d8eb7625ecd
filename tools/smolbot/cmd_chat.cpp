// smolbot chat: a terminal chat over smol::engine::Conversation (KV cache reused across turns).
// Streams the answer, shows reasoning dimmed (ANSI only when stdout is a terminal) or hides it,
// and understands a few slash commands. Ctrl+C during an answer stops that answer (the stop flag
// is checked between tokens); Ctrl+C or EOF at the prompt quits with status 0.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <string_view>

#include "args.h"
#include "chat_input.h"
#include "command.h"
#include "engine_cli.h"
#include "smol/conversation.h"
#include "smol/kernels.h"

namespace smolbot {
namespace {

constexpr const char* kUsage =
    "usage: smolbot chat --model F [--think | --no-think] [--system TEXT] [--temp T] [--top-k K]\n"
    "         [--top-p P] [--min-p P] [--seed S] [-n MAX_TOKENS] [--ctx N] [--threads N]\n"
    "         [--hide-thinking] [--drop-oldest]\n"
    "A terminal chat with the model's chat template; the KV cache is reused across turns.\n"
    "  --think/--no-think  reasoning mode (default: the template's, SmolLM3 thinks)\n"
    "  --temp 0.6 --top-p 0.95 by default (SmolLM3's recommendation); --temp 0 is greedy\n"
    "  -n 1024             tokens per answer at most\n"
    "  --drop-oldest       drop the oldest turns when the context is full instead of refusing\n"
    "Type /help in the chat for its commands.\n";

constexpr const char* kHelp =
    "commands:\n"
    "  /think, /no_think   switch reasoning on / off for the next turns\n"
    "  /system TEXT        set the system prompt (/system alone removes it)\n"
    "  /clear              forget the conversation (the system prompt stays)\n"
    "  /save FILE          write the messages as a JSON array (OpenAI style)\n"
    "  /load FILE          replace the conversation with the messages of FILE\n"
    "  /stats              last turn's tokens and speed, cached tokens, context used\n"
    "  /help, /quit        this text; leave (EOF or Ctrl+C at the prompt also quit)\n"
    "input: a line ending in \\ continues on the next line; a line \"\"\" starts a block\n"
    "that runs until the next \"\"\" line. Ctrl+C during an answer stops the answer.\n";

// Set by SIGINT while an answer is being generated; read by generate() between tokens.
std::atomic<bool> g_stop_answer{false};
volatile sig_atomic_t g_generating = 0;

void on_sigint(int) {
  if (g_generating) g_stop_answer.store(true, std::memory_order_relaxed);
  // At the prompt the pending read() fails with EINTR and the loop quits.
}

void install_sigint() {
  struct sigaction sa = {};
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: interrupt the read at the prompt
  sigaction(SIGINT, &sa, nullptr);
}

void out(std::string_view s) {
  std::fwrite(s.data(), 1, s.size(), stdout);
  std::fflush(stdout);
}

// Prints a turn's events: reasoning dimmed (tty), bracketed (not a tty) or hidden.
class EventPrinter {
 public:
  EventPrinter(bool color, bool hide_thinking) : color_(color), hide_(hide_thinking) {}

  void operator()(const smol::chat::OutputEvent& e) {
    using K = smol::chat::OutputEventKind;
    switch (e.kind) {
      case K::kReasoning:
        if (hide_) return;
        if (!in_reasoning_) {
          out(color_ ? "\x1b[2m" : "[thinking]\n");
          in_reasoning_ = true;
        }
        out(e.text);
        return;
      case K::kAnswer:
        end_reasoning();
        out(e.text);
        return;
      case K::kToolCall:
        end_reasoning();
        out("\n[tool call] " + e.tool_call.name + " " + e.tool_call.arguments.dump() + "\n");
        return;
      case K::kWarning:
        std::fprintf(stderr, "\nsmolbot chat: warning: %s\n", e.text.c_str());
        return;
    }
  }
  void end_reasoning() {
    if (!in_reasoning_) return;
    out(color_ ? "\x1b[0m\n" : "\n[/thinking]\n");
    in_reasoning_ = false;
  }

 private:
  bool color_;
  bool hide_;
  bool in_reasoning_ = false;
};

struct ChatState {
  smol::engine::Conversation* conv = nullptr;
  smol::engine::TurnOptions turn;
  bool color = false;
  bool hide_thinking = false;
  bool have_stats = false;
  smol::engine::TurnStats last;
};

void print_stats(const ChatState& st) {
  const int used = st.conv->session().n_past();
  const int size = st.conv->n_ctx();
  char buf[512];
  if (!st.have_stats) {
    std::snprintf(buf, sizeof buf, "stats: no turn yet | context %d / %d tokens\n", used, size);
  } else {
    const auto& s = st.last;
    std::snprintf(buf, sizeof buf,
                  "stats: prompt %d tokens (%d cached, %d evaluated) prefill %.1f tok/s | "
                  "generated %d tokens, decode %.1f tok/s (stop: %s) | context %d / %d tokens\n",
                  s.prompt_tokens, s.cached_tokens, s.evaluated_tokens, s.prefill_tok_s(),
                  s.generated_tokens, s.decode_tok_s(),
                  smol::engine::stop_reason_name(s.stop_reason), used, size);
  }
  out(buf);
}

void answer(ChatState& st, const std::string& text) {
  EventPrinter printer(st.color, st.hide_thinking);
  g_stop_answer.store(false);
  g_generating = 1;
  auto r = st.conv->send(text, st.turn, [&](const smol::chat::OutputEvent& e) { printer(e); });
  g_generating = 0;
  printer.end_reasoning();
  if (!r) {
    std::fprintf(stderr, "smolbot chat: %s\n", r.error().c_str());
    return;
  }
  out("\n");
  st.last = r->stats;
  st.have_stats = true;
  if (r->stats.dropped_messages > 0) {
    std::fprintf(stderr, "[dropped the %d oldest messages to fit the context]\n",
                 r->stats.dropped_messages);
  }
  switch (r->stats.stop_reason) {
    case smol::engine::StopReason::kCancelled:
      out("[answer stopped]\n");
      break;
    case smol::engine::StopReason::kMaxTokens:
      out("[answer cut at the -n limit]\n");
      break;
    case smol::engine::StopReason::kContextFull:
      out("[context full: /clear, or start with --drop-oldest]\n");
      break;
    default:
      break;
  }
}

smol::Result<std::string> slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return smol::Error{"cannot open " + path};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void load(ChatState& st, const std::string& path) {
  auto text = slurp(path);
  if (!text) {
    std::fprintf(stderr, "smolbot chat: /load: %s\n", text.error().c_str());
    return;
  }
  auto json = smol::chat::Json::parse(*text, nullptr, false);
  if (json.is_discarded()) {
    std::fprintf(stderr, "smolbot chat: /load: %s is not valid JSON\n", path.c_str());
    return;
  }
  auto messages = smol::engine::messages_from_json(json);
  smol::Status ok = messages ? st.conv->set_messages(std::move(*messages))
                             : smol::Status(smol::Error{messages.error()});
  if (!ok) {
    std::fprintf(stderr, "smolbot chat: /load: %s: %s\n", path.c_str(), ok.error().c_str());
    return;
  }
  out("loaded " + std::to_string(st.conv->messages().size()) + " messages from " + path + "\n");
}

void save(const ChatState& st, const std::string& path) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  const std::string text = smol::engine::messages_to_json(st.conv->messages()).dump(2) + "\n";
  if (!f || !f.write(text.data(), static_cast<std::streamsize>(text.size())) || !f.flush()) {
    std::fprintf(stderr, "smolbot chat: /save: cannot write %s\n", path.c_str());
    return;
  }
  out("saved " + std::to_string(st.conv->messages().size()) + " messages to " + path + "\n");
}

// Returns false when the chat should end.
bool command(ChatState& st, const std::string& line) {
  const size_t sp = line.find_first_of(" \t\n");
  const std::string name = line.substr(0, sp);
  std::string arg = sp == std::string::npos ? "" : line.substr(sp + 1);
  while (!arg.empty() && (arg.back() == ' ' || arg.back() == '\t' || arg.back() == '\n')) {
    arg.pop_back();
  }
  if (name == "/quit" || name == "/exit") return false;
  if (name == "/help") {
    out(kHelp);
  } else if (name == "/stats") {
    print_stats(st);
  } else if (name == "/think" || name == "/no_think") {
    st.conv->set_enable_thinking(name == "/think");
    out(name == "/think" ? "reasoning on\n" : "reasoning off\n");
  } else if (name == "/system") {
    st.conv->set_system(arg);
    out(arg.empty() ? "system prompt removed\n" : "system prompt set\n");
  } else if (name == "/clear") {
    st.conv->clear();
    out("conversation cleared (the system prompt stays)\n");
  } else if (name == "/save" || name == "/load") {
    if (arg.empty()) {
      std::fprintf(stderr, "smolbot chat: %s needs a file name\n", name.c_str());
    } else if (name == "/save") {
      save(st, arg);
    } else {
      load(st, arg);
    }
  } else {
    std::fprintf(stderr, "smolbot chat: unknown command %s (/help lists them)\n", name.c_str());
  }
  return true;
}

int usage_error(const std::string& message) {
  std::fprintf(stderr, "smolbot chat: %s\n%s", message.c_str(), kUsage);
  return 2;
}

int run_chat(int argc, char** argv) {
  auto args = Args::parse(argc, argv,
                          {"--model", "--system", "--temp", "--top-k", "--top-p", "--min-p",
                           "--seed", "--n-predict", "--ctx", "--threads"},
                          {"--think", "--no-think", "--hide-thinking", "--drop-oldest", "--help"},
                          {{"-n", "--n-predict"}, {"-t", "--threads"}, {"-m", "--model"}});
  if (!args) return usage_error(args.error());
  if (args->has("--help")) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (!args->get("--model")) return usage_error("--model is required");
  if (args->has("--think") && args->has("--no-think")) {
    return usage_error("--think and --no-think exclude each other");
  }
  if (!args->positional().empty()) return usage_error("unexpected " + args->positional()[0]);

  std::string bad;  // the first malformed number
  auto int_opt = [&](const char* name, int64_t fallback) {
    auto v = args->get_int(name, fallback);
    if (!v && bad.empty()) bad = v.error();
    return v ? *v : fallback;
  };
  auto real_opt = [&](const char* name, double fallback) {
    auto v = args->get_double(name, fallback);
    if (!v && bad.empty()) bad = v.error();
    return v ? *v : fallback;
  };
  const int64_t n_predict = int_opt("--n-predict", 1024), ctx = int_opt("--ctx", 8192),
                threads = int_opt("--threads", 0), top_k = int_opt("--top-k", 0),
                seed = int_opt("--seed", 0);
  const double temp = real_opt("--temp", 0.6), top_p = real_opt("--top-p", 0.95),
               min_p = real_opt("--min-p", 0.0);
  if (!bad.empty()) return usage_error(bad);
  if (n_predict < 1 || ctx < 1) return usage_error("-n and --ctx must be positive");
  if (threads > 0) smol::kernels::set_num_threads(static_cast<int>(threads));

  const auto t0 = std::chrono::steady_clock::now();
  auto model = load_model_or_report("chat", *args->get("--model"));
  if (!model) return 1;
  if (!model->tokenizer()) {
    std::fprintf(stderr, "smolbot chat: %s has no tokenizer\n", args->get("--model")->c_str());
    return 1;
  }
  smol::engine::SessionOptions so;
  so.n_ctx = static_cast<int>(ctx);
  smol::engine::ConversationOptions co;
  if (args->has("--think")) co.enable_thinking = true;
  if (args->has("--no-think")) co.enable_thinking = false;
  co.drop_oldest = args->has("--drop-oldest");
  auto conv = smol::engine::Conversation::create(*model, so, co);
  if (!conv) {
    std::fprintf(stderr, "smolbot chat: %s\n", conv.error().c_str());
    return 1;
  }
  if (co.drop_oldest) {
    // Keep room for a whole answer (up to a quarter of the context) when dropping old turns.
    (*conv)->options().min_free_tokens =
        static_cast<int>(std::min<int64_t>(n_predict, (*conv)->n_ctx() / 4));
  }
  if (!(*conv)->template_warning().empty()) {
    std::fprintf(stderr, "smolbot chat: %s\n", (*conv)->template_warning().c_str());
  }
  if (auto system = args->get("--system")) (*conv)->set_system(*system);

  ChatState st;
  st.conv = conv->get();
  auto& g = st.turn.generate;
  g.max_tokens = static_cast<int>(n_predict);
  g.sampling.temperature = static_cast<float>(temp);
  g.sampling.top_k = static_cast<int>(top_k);
  g.sampling.top_p = static_cast<float>(top_p);
  g.sampling.min_p = static_cast<float>(min_p);
  g.sampling.seed = seed != 0 ? static_cast<uint64_t>(seed)
                              : (uint64_t{std::random_device{}()} << 32) ^ std::random_device{}();
  g.stop_flag = &g_stop_answer;
  st.color = ::isatty(STDOUT_FILENO) != 0;
  st.hide_thinking = args->has("--hide-thinking");
  const bool interactive = ::isatty(STDIN_FILENO) != 0;

  const double load_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  std::fprintf(stderr,
               "smolbot chat: %s loaded in %.0f ms, context %d tokens; /help for commands\n",
               args->get("--model")->c_str(), load_ms, (*conv)->n_ctx());

  install_sigint();
  LineReader reader(STDIN_FILENO);
  std::string message;
  for (;;) {
    const ReadStatus rs =
        read_message(reader, interactive ? "> " : "", interactive ? "... " : "", message);
    if (rs != ReadStatus::kOk) {
      if (interactive) out("\n");
      break;  // EOF or Ctrl+C at the prompt
    }
    if (message.find_first_not_of(" \t\n") == std::string::npos) continue;
    if (message[0] == '/') {
      if (!command(st, message)) break;
      continue;
    }
    answer(st, message);
  }
  return 0;
}

}  // namespace
}  // namespace smolbot

SMOLBOT_COMMAND("chat", "terminal chat with the model (KV cache reused across turns)",
                smolbot::run_chat);
