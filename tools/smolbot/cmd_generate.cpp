// smolbot generate: raw completion (no chat template) of a prompt given as text or token ids.
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "args.h"
#include "command.h"
#include "engine_cli.h"
#include "smol/generate.h"
#include "smol/kernels.h"

namespace {

constexpr const char* kUsage =
    "usage: smolbot generate --model F (--prompt TEXT | --prompt-ids CSV) [-n N] [--temp T]\n"
    "         [--top-k K] [--top-p P] [--min-p P] [--repeat-penalty R] [--presence-penalty P]\n"
    "         [--frequency-penalty F] [--seed S] [--stop TEXT] [--threads N] [--ctx N]\n"
    "         [--special] [--json] [--top-logits K]\n"
    "Raw completion, no chat template. Greedy unless --temp > 0. --json prints one object with\n"
    "prompt_ids, ids, text, top (per step K [id, logit] pairs), stop_reason and timings.\n";

int run_generate(int argc, char** argv) {
  auto args = smolbot::Args::parse(
      argc, argv,
      {"--model", "--prompt", "--prompt-ids", "--n-predict", "--temp", "--top-k", "--top-p",
       "--min-p", "--repeat-penalty", "--presence-penalty", "--frequency-penalty", "--seed",
       "--stop", "--threads", "--ctx", "--top-logits"},
      {"--json", "--special", "--help"},
      {{"-n", "--n-predict"}, {"-t", "--threads"}, {"-m", "--model"}});
  if (!args.ok()) {
    std::fprintf(stderr, "smolbot generate: %s\n%s", args.error().c_str(), kUsage);
    return 2;
  }
  if (args->has("--help")) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (!args->get("--model") || (args->has("--prompt") == args->has("--prompt-ids"))) {
    std::fprintf(stderr,
                 "smolbot generate: need --model and exactly one of --prompt, --prompt-ids\n%s",
                 kUsage);
    return 2;
  }

  smol::engine::GenerateOptions opt;
  auto& sp = opt.sampling;
  int64_t n_predict = 0, top_k = 0, seed = 0, threads = 0, ctx = 0, top_logits = 0;
  double temp = 0, top_p = 0, min_p = 0, rep = 0, pres = 0, freq = 0;
  for (auto [name, dst, fallback] : {std::tuple{"--n-predict", &n_predict, int64_t{64}},
                                     {"--top-k", &top_k, int64_t{0}},
                                     {"--seed", &seed, int64_t{0}},
                                     {"--threads", &threads, int64_t{0}},
                                     {"--ctx", &ctx, int64_t{8192}},
                                     {"--top-logits", &top_logits, int64_t{0}}}) {
    auto v = args->get_int(name, fallback);
    if (!v.ok()) {
      std::fprintf(stderr, "smolbot generate: %s\n", v.error().c_str());
      return 2;
    }
    *dst = *v;
  }
  for (auto [name, dst, fallback] : {std::tuple{"--temp", &temp, 0.0},
                                     {"--top-p", &top_p, 1.0},
                                     {"--min-p", &min_p, 0.0},
                                     {"--repeat-penalty", &rep, 1.0},
                                     {"--presence-penalty", &pres, 0.0},
                                     {"--frequency-penalty", &freq, 0.0}}) {
    auto v = args->get_double(name, fallback);
    if (!v.ok()) {
      std::fprintf(stderr, "smolbot generate: %s\n", v.error().c_str());
      return 2;
    }
    *dst = *v;
  }
  opt.max_tokens = static_cast<int>(n_predict);
  sp.temperature = static_cast<float>(temp);
  sp.top_k = static_cast<int>(top_k);
  sp.top_p = static_cast<float>(top_p);
  sp.min_p = static_cast<float>(min_p);
  sp.repeat_penalty = static_cast<float>(rep);
  sp.presence_penalty = static_cast<float>(pres);
  sp.frequency_penalty = static_cast<float>(freq);
  sp.seed = static_cast<uint64_t>(seed);
  opt.top_logits = static_cast<int>(top_logits);
  opt.render_special = args->has("--special");
  if (auto stop = args->get("--stop")) opt.stop.push_back(*stop);
  if (threads > 0) smol::kernels::set_num_threads(static_cast<int>(threads));
  const bool json = args->has("--json");

  const auto t0 = std::chrono::steady_clock::now();
  auto model = smolbot::load_model_or_report("generate", *args->get("--model"));
  if (!model) return 1;
  std::vector<int32_t> prompt;
  if (auto ids = args->get("--prompt-ids")) {
    auto parsed = smolbot::parse_id_list(*ids);
    if (!parsed.ok()) {
      std::fprintf(stderr, "smolbot generate: %s\n", parsed.error().c_str());
      return 2;
    }
    prompt = std::move(*parsed);
  } else {
    auto enc = model->tokenizer()->encode(*args->get("--prompt"), /*parse_special=*/true);
    if (!enc.ok()) {
      std::fprintf(stderr, "smolbot generate: %s\n", enc.error().c_str());
      return 1;
    }
    prompt = std::move(*enc);
  }
  smol::engine::SessionOptions so;
  so.n_ctx = static_cast<int>(ctx);
  auto session = smol::engine::Session::create(*model, so);
  if (!session.ok()) {
    std::fprintf(stderr, "smolbot generate: %s\n", session.error().c_str());
    return 1;
  }
  const double load_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();

  smol::engine::TokenCallback stream;
  if (!json) {
    stream = [](int32_t, std::string_view text) {
      std::fwrite(text.data(), 1, text.size(), stdout);
      std::fflush(stdout);
      return true;
    };
  }
  auto r = smol::engine::generate(**session, prompt, opt, stream);
  if (!r.ok()) {
    std::fprintf(stderr, "smolbot generate: %s\n", r.error().c_str());
    return 1;
  }
  const double prefill_tok_s = r->prefill_ms > 0 ? r->n_prompt / (r->prefill_ms / 1e3) : 0;
  const double decode_tok_s = r->decode_ms > 0 ? r->n_decode / (r->decode_ms / 1e3) : 0;
  if (!json) {
    std::fprintf(stderr,
                 "\n[%d prompt tokens %.1f tok/s, %zu generated, decode %.2f tok/s, load %.0f ms, "
                 "stop: %s]\n",
                 r->n_prompt, prefill_tok_s, r->ids.size(), decode_tok_s, load_ms,
                 smol::engine::stop_reason_name(r->stop_reason));
    return 0;
  }
  std::string out = "{\"prompt_ids\":[";
  smolbot::append_ids(out, prompt);
  out += "],\"ids\":[";
  smolbot::append_ids(out, r->ids);
  out += "],\"text\":" + smolbot::json_string(r->text) + ",\"top\":[";
  for (size_t s = 0; s < r->top.size(); ++s) {
    out += s ? ",[" : "[";
    for (size_t j = 0; j < r->top[s].size(); ++j) {
      out += j ? ",[" : "[";
      out += std::to_string(r->top[s][j].first);
      out += ',';
      out += smolbot::json_number(r->top[s][j].second);
      out += ']';
    }
    out += "]";
  }
  out += "],\"stop_reason\":\"" + std::string(smol::engine::stop_reason_name(r->stop_reason)) +
         "\",\"timings\":{\"prefill_tok_s\":" + smolbot::json_number(prefill_tok_s) +
         ",\"decode_tok_s\":" + smolbot::json_number(decode_tok_s) +
         ",\"load_ms\":" + smolbot::json_number(load_ms) + "}}\n";
  std::fputs(out.c_str(), stdout);
  return 0;
}

}  // namespace

SMOLBOT_COMMAND("generate", "raw completion of a prompt (text or ids), optional --json",
                run_generate);
