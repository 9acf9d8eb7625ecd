// smolbot bench: prefill and decode throughput, like llama-bench (pp / tg), median of reps.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "args.h"
#include "command.h"
#include "engine_cli.h"
#include "smol/kernels.h"

namespace {

constexpr const char* kUsage =
    "usage: smolbot bench --model F [-p 512] [-n 128] [-t THREADS] [-r REPS] [--json]\n"
    "Prefill of -p tokens in one batch, then -n single-token decode steps (greedy), repeated -r\n"
    "times on a fresh context; prints the median tok/s of each, the ISA tier and threads.\n";

using Clock = std::chrono::steady_clock;

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

int run_bench(int argc, char** argv) {
  auto args = smolbot::Args::parse(
      argc, argv, {"--model", "--n-prompt", "--n-gen", "--threads", "--reps"}, {"--json", "--help"},
      {{"-m", "--model"},
       {"-p", "--n-prompt"},
       {"-n", "--n-gen"},
       {"-t", "--threads"},
       {"-r", "--reps"}});
  if (!args.ok()) {
    std::fprintf(stderr, "smolbot bench: %s\n%s", args.error().c_str(), kUsage);
    return 2;
  }
  if (args->has("--help")) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (!args->get("--model")) {
    std::fprintf(stderr, "smolbot bench: need --model\n%s", kUsage);
    return 2;
  }
  auto n_prompt = args->get_int("--n-prompt", 512);
  auto n_gen = args->get_int("--n-gen", 128);
  auto threads = args->get_int("--threads", 0);
  auto reps = args->get_int("--reps", 3);
  for (auto* r : {&n_prompt, &n_gen, &threads, &reps}) {
    if (!r->ok()) {
      std::fprintf(stderr, "smolbot bench: %s\n", r->error().c_str());
      return 2;
    }
  }
  if (*n_prompt < 1 || *n_gen < 0 || *reps < 1) {
    std::fprintf(stderr, "smolbot bench: need -p >= 1, -n >= 0, -r >= 1\n");
    return 2;
  }
  if (*threads > 0) smol::kernels::set_num_threads(static_cast<int>(*threads));

  const auto t_load = Clock::now();
  smol::engine::LoadOptions lo;
  lo.load_tokenizer = false;  // the benchmark feeds ids
  auto model = smolbot::load_model_or_report("bench", *args->get("--model"), lo);
  if (!model) return 1;
  const double load_ms = seconds_since(t_load) * 1e3;
  const int n_vocab = model->config().n_vocab;

  smol::engine::SessionOptions so;
  so.n_ctx = static_cast<int>(*n_prompt + *n_gen);
  so.n_batch = static_cast<int>(*n_prompt);
  auto session = smol::engine::Session::create(*model, so);
  if (!session.ok()) {
    std::fprintf(stderr, "smolbot bench: %s\n", session.error().c_str());
    return 1;
  }
  auto& s = **session;
  if (s.n_ctx() < so.n_ctx) {
    std::fprintf(stderr, "smolbot bench: -p + -n = %d exceeds the model's context %d\n", so.n_ctx,
                 s.n_ctx());
    return 1;
  }
  std::vector<int32_t> prompt(static_cast<size_t>(*n_prompt));
  for (size_t i = 0; i < prompt.size(); ++i) {
    prompt[i] = static_cast<int32_t>((i * 7919 + 13) % static_cast<size_t>(n_vocab));
  }

  std::vector<double> pp, tg;
  for (int64_t rep = 0; rep < *reps; ++rep) {
    if (auto st = s.truncate(0); !st.ok()) return 1;
    auto t0 = Clock::now();
    if (auto st = s.eval(prompt); !st.ok()) {
      std::fprintf(stderr, "smolbot bench: %s\n", st.error().c_str());
      return 1;
    }
    pp.push_back(static_cast<double>(*n_prompt) / seconds_since(t0));
    if (*n_gen == 0) continue;
    t0 = Clock::now();
    for (int64_t i = 0; i < *n_gen; ++i) {
      auto logits = s.logits();
      const int32_t next[1] = {
          static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin())};
      if (auto st = s.eval(next); !st.ok()) {
        std::fprintf(stderr, "smolbot bench: %s\n", st.error().c_str());
        return 1;
      }
    }
    tg.push_back(static_cast<double>(*n_gen) / seconds_since(t0));
  }

  const char* isa = smol::kernels::isa_name(smol::kernels::active_isa());
  const int n_threads = smol::kernels::num_threads();
  const double gb = static_cast<double>(model->weight_bytes()) / 1e9;
  if (args->has("--json")) {
    auto list = [](const std::vector<double>& v) {
      std::string out = "[";
      for (size_t i = 0; i < v.size(); ++i) {
        if (i) out += ',';
        out += smolbot::json_number(v[i]);
      }
      return out + "]";
    };
    std::printf(
        "{\"model\":%s,\"isa\":\"%s\",\"threads\":%d,\"n_prompt\":%lld,"
        "\"n_gen\":%lld,\"reps\":%lld,\"prefill_tok_s\":%s,\"decode_tok_s\":%s,\"load_ms\":%s,"
        "\"weight_bytes\":%llu,\"kv_bytes\":%zu,\"prefill_runs\":%s,\"decode_runs\":%s}\n",
        smolbot::json_string(*args->get("--model")).c_str(), isa, n_threads,
        static_cast<long long>(*n_prompt), static_cast<long long>(*n_gen),
        static_cast<long long>(*reps), smolbot::json_number(median(pp)).c_str(),
        smolbot::json_number(median(tg)).c_str(), smolbot::json_number(load_ms).c_str(),
        static_cast<unsigned long long>(model->weight_bytes()), s.kv_bytes(), list(pp).c_str(),
        list(tg).c_str());
  } else {
    std::printf("model %s: %.3f GB of weights, isa %s, %d threads, load %.0f ms\n",
                args->get("--model")->c_str(), gb, isa, n_threads, load_ms);
    std::printf("prefill pp%lld: %8.2f tok/s (median of %lld)\n", static_cast<long long>(*n_prompt),
                median(pp), static_cast<long long>(*reps));
    if (*n_gen > 0) {
      std::printf("decode  tg%lld: %8.2f tok/s (median of %lld), %.1f GB/s of weights\n",
                  static_cast<long long>(*n_gen), median(tg), static_cast<long long>(*reps),
                  median(tg) * gb);
    }
  }
  return 0;
}

}  // namespace

SMOLBOT_COMMAND("bench", "prefill / decode tok/s (median of reps), ISA tier and threads",
                run_bench);
