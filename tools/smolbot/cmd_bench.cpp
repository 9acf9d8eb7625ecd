// smolbot bench: prefill and decode throughput, like llama-bench (pp / tg), median of reps.
// With --streams N, N sessions decode together (engine::BatchDecoder: one pass over the weights
// per step for all N), which is how the server serves concurrent chats.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "args.h"
#include "command.h"
#include "engine_cli.h"
#include "smol/kernels.h"

namespace {

constexpr const char* kUsage =
    "usage: smolbot bench --model F [-p 512] [-n 128] [-t THREADS] [-r REPS] [--streams N]\n"
    "                    [--json]\n"
    "Prefill of -p tokens (micro-batches of up to 512), then -n single-token decode steps\n"
    "(greedy), repeated -r times on a fresh context after one untimed 16-token warm-up; prints\n"
    "the median tok/s of each, the ISA tier and threads.\n"
    "--streams N (default 1): N sessions, each prefilled with its own -p tokens, then -n decode\n"
    "steps of all N batched into one forward pass; tok/s are aggregate (all streams) and per\n"
    "stream.\n";

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
      argc, argv, {"--model", "--n-prompt", "--n-gen", "--threads", "--reps", "--streams"},
      {"--json", "--help"},
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
  auto streams = args->get_int("--streams", 1);
  for (auto* r : {&n_prompt, &n_gen, &threads, &reps, &streams}) {
    if (!r->ok()) {
      std::fprintf(stderr, "smolbot bench: %s\n", r->error().c_str());
      return 2;
    }
  }
  if (*n_prompt < 1 || *n_gen < 0 || *reps < 1 || *streams < 1 || *streams > 64) {
    std::fprintf(stderr, "smolbot bench: need -p >= 1, -n >= 0, -r >= 1, 1 <= --streams <= 64\n");
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
  // Micro-batches of at most 512 tokens, llama.cpp's default n_ubatch: a 4k-token prompt then
  // needs 512-row scratch, not 4096-row.
  so.n_batch = static_cast<int>(std::min<int64_t>(*n_prompt, 512));
  const int n_streams = static_cast<int>(*streams);
  std::vector<std::unique_ptr<smol::engine::Session>> sessions;
  std::vector<smol::engine::Session*> batch;  // [n_streams]
  for (int i = 0; i < n_streams; ++i) {
    auto session = smol::engine::Session::create(*model, so);
    if (!session.ok()) {
      std::fprintf(stderr, "smolbot bench: %s\n", session.error().c_str());
      return 1;
    }
    if ((*session)->n_ctx() < so.n_ctx) {
      std::fprintf(stderr, "smolbot bench: -p + -n = %d exceeds the model's context %d\n", so.n_ctx,
                   (*session)->n_ctx());
      return 1;
    }
    sessions.push_back(std::move(*session));
    batch.push_back(sessions.back().get());
  }
  auto decoder = smol::engine::BatchDecoder::create(*model, n_streams);
  if (!decoder.ok()) {
    std::fprintf(stderr, "smolbot bench: %s\n", decoder.error().c_str());
    return 1;
  }
  // A different prompt per stream, so the streams sit on different tokens as in real use.
  std::vector<std::vector<int32_t>> prompts(static_cast<size_t>(n_streams));
  for (size_t s = 0; s < prompts.size(); ++s) {
    prompts[s].resize(static_cast<size_t>(*n_prompt));
    for (size_t i = 0; i < prompts[s].size(); ++i) {
      prompts[s][i] =
          static_cast<int32_t>((i * 7919 + 13 + s * 104729) % static_cast<size_t>(n_vocab));
    }
  }

  // Warm-up, untimed (llama-bench does one too): the first pass faults in the file's pages and
  // the OpenMP team; both would otherwise land in the first repetition's prefill.
  for (auto& s : sessions) {
    const auto warm = std::span(prompts[0]).first(std::min<size_t>(prompts[0].size(), 16));
    if (auto st = s->eval(warm); !st.ok()) {
      std::fprintf(stderr, "smolbot bench: %s\n", st.error().c_str());
      return 1;
    }
  }

  std::vector<double> pp, tg;  // aggregate tok/s over all streams
  std::vector<int32_t> next(static_cast<size_t>(n_streams));
  for (int64_t rep = 0; rep < *reps; ++rep) {
    auto t0 = Clock::now();
    for (int i = 0; i < n_streams; ++i) {
      auto& s = *sessions[static_cast<size_t>(i)];
      if (auto st = s.truncate(0); !st.ok()) return 1;
      if (auto st = s.eval(prompts[static_cast<size_t>(i)]); !st.ok()) {
        std::fprintf(stderr, "smolbot bench: %s\n", st.error().c_str());
        return 1;
      }
    }
    pp.push_back(static_cast<double>(*n_prompt * n_streams) / seconds_since(t0));
    if (*n_gen == 0) continue;
    t0 = Clock::now();
    for (int64_t step = 0; step < *n_gen; ++step) {
      for (size_t i = 0; i < next.size(); ++i) {
        auto logits = batch[i]->logits();
        next[i] =
            static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
      }
      if (auto st = (*decoder)->decode(batch, next); !st.ok()) {
        std::fprintf(stderr, "smolbot bench: %s\n", st.error().c_str());
        return 1;
      }
    }
    tg.push_back(static_cast<double>(*n_gen * n_streams) / seconds_since(t0));
  }

  const char* isa = smol::kernels::isa_name(smol::kernels::active_isa());
  const int n_threads = smol::kernels::num_threads();
  const double gb = static_cast<double>(model->weight_bytes()) / 1e9;
  size_t kv_bytes = 0;
  for (const auto& s : sessions) kv_bytes += s->kv_bytes();
  // One decode step is one pass over the weights for all streams: steps/s = per-stream tok/s.
  const double tg_stream = median(tg) / n_streams;
  // A decode step also reads every stream's K and V up to its position: step i of -n attends
  // over n_prompt + i + 1 positions. Averaged over the steps, per stream.
  const double kv_per_position =
      static_cast<double>(sessions[0]->kv_bytes()) / static_cast<double>(sessions[0]->n_ctx());
  const double kv_read_per_step = kv_per_position * (static_cast<double>(*n_prompt) +
                                                     (static_cast<double>(*n_gen) + 1.0) / 2.0);
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
        "{\"model\":%s,\"isa\":\"%s\",\"threads\":%d,\"streams\":%d,\"n_prompt\":%lld,"
        "\"n_gen\":%lld,\"reps\":%lld,\"prefill_tok_s\":%s,\"decode_tok_s\":%s,"
        "\"decode_tok_s_per_stream\":%s,\"load_ms\":%s,\"weight_bytes\":%llu,\"kv_bytes\":%zu,"
        "\"decode_kv_read_bytes\":%s,\"prefill_runs\":%s,\"decode_runs\":%s}\n",
        smolbot::json_string(*args->get("--model")).c_str(), isa, n_threads, n_streams,
        static_cast<long long>(*n_prompt), static_cast<long long>(*n_gen),
        static_cast<long long>(*reps), smolbot::json_number(median(pp)).c_str(),
        smolbot::json_number(median(tg)).c_str(), smolbot::json_number(tg_stream).c_str(),
        smolbot::json_number(load_ms).c_str(),
        static_cast<unsigned long long>(model->weight_bytes()), kv_bytes,
        smolbot::json_number(kv_read_per_step).c_str(), list(pp).c_str(), list(tg).c_str());
  } else {
    std::printf("model %s: %.3f GB of weights, isa %s, %d threads, %d stream%s, load %.0f ms\n",
                args->get("--model")->c_str(), gb, isa, n_threads, n_streams,
                n_streams == 1 ? "" : "s", load_ms);
    std::printf("prefill pp%lld: %8.2f tok/s (median of %lld)\n", static_cast<long long>(*n_prompt),
                median(pp), static_cast<long long>(*reps));
    if (*n_gen > 0) {
      std::printf(
          "decode  tg%lld: %8.2f tok/s (median of %lld), %.1f GB/s of weights, %.1f GB/s of KV "
          "cache\n",
          static_cast<long long>(*n_gen), median(tg), static_cast<long long>(*reps), tg_stream * gb,
          median(tg) * kv_read_per_step / 1e9);
      if (n_streams > 1) {
        std::printf("decode  per stream: %8.2f tok/s (%d streams batched)\n", tg_stream, n_streams);
      }
    }
  }
  return 0;
}

}  // namespace

SMOLBOT_COMMAND("bench", "prefill / decode tok/s (median of reps), ISA tier and threads",
                run_bench);
