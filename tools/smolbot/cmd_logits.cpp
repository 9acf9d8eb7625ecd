// smolbot logits: teacher-forced logits of every position of a token sequence, computed in one
// prefill and written as little-endian f32, row-major [n_tokens][n_vocab].
#include <cstdio>
#include <string>
#include <vector>

#include "args.h"
#include "command.h"
#include "engine_cli.h"
#include "smol/kernels.h"

namespace {

constexpr const char* kUsage =
    "usage: smolbot logits --model F (--prompt-ids CSV | --prompt TEXT) --out FILE [--threads N]\n"
    "Writes the logits after each position as little-endian f32 [n_tokens][n_vocab].\n";

int run_logits(int argc, char** argv) {
  auto args = smolbot::Args::parse(argc, argv,
                                   {"--model", "--prompt-ids", "--prompt", "--out", "--threads"},
                                   {"--help"}, {{"-m", "--model"}, {"-t", "--threads"}});
  if (!args.ok()) {
    std::fprintf(stderr, "smolbot logits: %s\n%s", args.error().c_str(), kUsage);
    return 2;
  }
  if (args->has("--help")) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (!args->get("--model") || !args->get("--out") ||
      args->has("--prompt-ids") == args->has("--prompt")) {
    std::fprintf(stderr,
                 "smolbot logits: need --model, --out and one of --prompt-ids, --prompt\n%s",
                 kUsage);
    return 2;
  }
  auto threads = args->get_int("--threads", 0);
  if (!threads.ok()) {
    std::fprintf(stderr, "smolbot logits: %s\n", threads.error().c_str());
    return 2;
  }
  if (*threads > 0) smol::kernels::set_num_threads(static_cast<int>(*threads));

  smol::engine::LoadOptions lo;
  lo.load_tokenizer = args->has("--prompt");
  auto model = smolbot::load_model_or_report("logits", *args->get("--model"), lo);
  if (!model) return 1;
  std::vector<int32_t> ids;
  if (auto csv = args->get("--prompt-ids")) {
    auto parsed = smolbot::parse_id_list(*csv);
    if (!parsed.ok()) {
      std::fprintf(stderr, "smolbot logits: %s\n", parsed.error().c_str());
      return 2;
    }
    ids = std::move(*parsed);
  } else {
    auto enc = model->tokenizer()->encode(*args->get("--prompt"), true);
    if (!enc.ok()) {
      std::fprintf(stderr, "smolbot logits: %s\n", enc.error().c_str());
      return 1;
    }
    ids = std::move(*enc);
  }
  if (ids.empty()) {
    std::fprintf(stderr, "smolbot logits: empty token list\n");
    return 2;
  }

  smol::engine::SessionOptions so;
  so.n_ctx = static_cast<int>(ids.size());
  so.n_batch = static_cast<int>(ids.size());  // the whole sequence in one prefill
  auto session = smol::engine::Session::create(*model, so);
  if (!session.ok()) {
    std::fprintf(stderr, "smolbot logits: %s\n", session.error().c_str());
    return 1;
  }
  if ((*session)->n_ctx() < static_cast<int>(ids.size())) {
    std::fprintf(stderr, "smolbot logits: %zu tokens exceed the model's context of %d\n",
                 ids.size(), (*session)->n_ctx());
    return 1;
  }
  const size_t n_vocab = static_cast<size_t>(model->config().n_vocab);
  std::vector<float> logits(ids.size() * n_vocab);
  if (auto s = (*session)->eval_all_logits(ids, logits); !s.ok()) {
    std::fprintf(stderr, "smolbot logits: %s\n", s.error().c_str());
    return 1;
  }
  const std::string out_path = *args->get("--out");
  FILE* f = std::fopen(out_path.c_str(), "wb");
  if (!f) {
    std::fprintf(stderr, "smolbot logits: cannot open %s for writing\n", out_path.c_str());
    return 1;
  }
  // x86-64 is little-endian, so the in-memory floats are already the file format.
  const size_t written = std::fwrite(logits.data(), sizeof(float), logits.size(), f);
  if (std::fclose(f) != 0 || written != logits.size()) {
    std::fprintf(stderr, "smolbot logits: short write to %s\n", out_path.c_str());
    return 1;
  }
  std::fprintf(stderr, "smolbot logits: wrote %zu x %zu floats to %s\n", ids.size(), n_vocab,
               out_path.c_str());
  return 0;
}

}  // namespace

SMOLBOT_COMMAND("logits", "teacher-forced logits of a token sequence as raw f32", run_logits);
