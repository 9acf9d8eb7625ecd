// gguf-synth — writes a synthetic SmolLM3 GGUF (random weights, real layout and vocabulary).
//
//   gguf-synth --preset tiny|small|3b --seed N --out FILE [--tokenizer-json F] [--chat-template F]
//   gguf-synth --preset P --plan [--tokenizer-json F]   # print the plan as JSON, write nothing
#include <cstdio>
#include <string>

#include "args.h"
#include "synth_writer.h"

namespace {

constexpr const char* kUsage =
    "usage: gguf-synth --preset tiny|small|3b --seed N --out FILE\n"
    "                  [--tokenizer-json FILE] [--chat-template FILE] [--quiet]\n"
    "       gguf-synth --preset tiny|small|3b --plan [--tokenizer-json FILE]\n"
    "Writes a smollm3 GGUF laid out like SmolLM3-3B Q4_K_M with seeded random weights.\n"
    "--plan prints the tensor plan and totals as JSON instead of writing a file.\n";

int run(int argc, char** argv) {
  auto args = smolbot::Args::parse(
      argc, argv, {"--preset", "--seed", "--out", "--tokenizer-json", "--chat-template"},
      {"--plan", "--quiet", "--help"}, {{"-h", "--help"}, {"-o", "--out"}});
  if (!args) {
    std::fprintf(stderr, "gguf-synth: %s\n%s", args.error().c_str(), kUsage);
    return 2;
  }
  if (args->has("--help")) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (!args->positional().empty()) {
    std::fprintf(stderr, "gguf-synth: unexpected argument '%s'\n%s", args->positional()[0].c_str(),
                 kUsage);
    return 2;
  }
  auto seed = args->get_int("--seed", 0);
  if (!seed || *seed < 0) {
    std::fprintf(stderr, "gguf-synth: %s\n", seed ? "--seed must be >= 0" : seed.error().c_str());
    return 2;
  }
  smol::synth::SynthOptions o;
  o.preset = args->get_or("--preset", "");
  o.seed = static_cast<uint64_t>(*seed);
  o.out = args->get_or("--out", "");
  o.tokenizer_json = args->get_or("--tokenizer-json", "");
  o.chat_template_path = args->get_or("--chat-template", "");
  if (o.preset.empty()) {
    std::fprintf(stderr, "gguf-synth: --preset is required\n%s", kUsage);
    return 2;
  }

  if (args->has("--plan")) {
    auto preset = smol::synth::preset_by_name(o.preset);
    if (!preset) {
      std::fprintf(stderr, "gguf-synth: %s\n", preset.error().c_str());
      return 1;
    }
    std::string path = o.tokenizer_json;
    if (path.empty()) {
      auto found = smol::synth::find_default_tokenizer_json();
      if (!found) {
        std::fprintf(stderr, "gguf-synth: %s\n", found.error().c_str());
        return 1;
      }
      path = *found;
    }
    auto vocab = smol::synth::load_vocab(path);
    if (!vocab) {
      std::fprintf(stderr, "gguf-synth: %s\n", vocab.error().c_str());
      return 1;
    }
    std::printf("%s\n", smol::synth::plan_json(*preset, &*vocab).c_str());
    return 0;
  }
  if (o.out.empty()) {
    std::fprintf(stderr, "gguf-synth: --out is required\n%s", kUsage);
    return 2;
  }

  auto stats = smol::synth::write_synth_model(o);
  if (!stats) {
    std::fprintf(stderr, "gguf-synth: %s\n", stats.error().c_str());
    return 1;
  }
  if (!args->has("--quiet")) {
    const auto& s = *stats;
    std::fprintf(stderr,
                 "gguf-synth: wrote %s (preset %s, seed %llu): %llu tensors (%llu Q4_K, %llu Q6_K, "
                 "%llu F32), %llu bytes; vocab %.2f s, weights %.2f s, total %.2f s\n",
                 o.out.c_str(), o.preset.c_str(), static_cast<unsigned long long>(o.seed),
                 static_cast<unsigned long long>(s.plan.n_tensors),
                 static_cast<unsigned long long>(s.plan.n_q4_k),
                 static_cast<unsigned long long>(s.plan.n_q6_k),
                 static_cast<unsigned long long>(s.plan.n_f32),
                 static_cast<unsigned long long>(s.file_bytes), s.vocab_seconds, s.weights_seconds,
                 s.total_seconds);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return run(argc, argv); }
