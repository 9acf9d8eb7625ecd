// Tokenizer encode throughput (MB/s of UTF-8 input, single thread) on three kinds of text:
//   prose  English prose: the license texts in /usr/share/common-licenses (~260 KB of real,
//          varied English) when present, else a built-in paragraph
//   code   this repository's own C++ sources
//   cjk    Chinese and Japanese prose (built-in paragraphs)
// Each text is repeated up to ~1 MB. The tokenizer keeps no cache between calls, so repetition
// does not make later copies cheaper. Run: build/bin/tokenizer_encode_bench
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "llama3_vocab.h"
#include "smol/tokenizer.h"

namespace {

namespace fs = std::filesystem;
using smol::tokenizer::Tokenizer;

constexpr size_t kTargetBytes = 1 << 20;

const char* kProseFallback =
    "The committee met on a grey Tuesday morning to review the harbour plans. Nobody expected "
    "agreement: the fishermen wanted the old pier repaired, the council wanted a marina, and the "
    "engineers, who had measured the tides for three winters, quietly doubted both. By noon the "
    "coffee was cold and the arguments had circled twice. Then the eldest engineer unrolled a "
    "faded chart from 1931, pointed at a sandbar nobody had mentioned, and asked who would pay "
    "when it moved again. The room went silent; the vote was postponed until spring.\n\n";

const char* kCjk =
    "自然语言处理是人工智能的一个重要分支，它研究如何让计算机理解和生成人类语言。近年来，大型语言模"
    "型"
    "在翻译、摘要和对话等任务上取得了显著进展，但它们仍然会犯事实性错误，也需要大量的计算资源。"
    "研究人员正在探索更小、更高效的模型，使其能够在普通的个人电脑上运行。\n"
    "東京の朝は早い。駅のホームには通勤客が並び、電車は分刻みで到着する。窓の外には高層ビルと古い"
    "神社が並んでいて、新しいものと古いものが不思議に調和している。昼になると、小さな食堂に人々が集"
    "まり、"
    "温かいうどんやカレーライスを食べながら短い休憩を楽しむ。\n"
    "한국어는 한글이라는 고유한 문자를 사용한다. 한글은 15세기에 만들어졌으며 과학적인 문자로 "
    "평가받는다.\n";

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Whole valid UTF-8 text, repeated up to kTargetBytes.
std::string fill(std::string base) {
  if (base.empty()) return base;
  std::string out;
  while (out.size() + base.size() <= kTargetBytes) out += base;
  return out.empty() ? base : out;
}

std::string prose_text() {
  std::string all;
  const fs::path dir = "/usr/share/common-licenses";
  if (fs::is_directory(dir)) {
    for (const auto& e : fs::directory_iterator(dir)) {
      if (!e.is_regular_file()) continue;
      std::string t = read_all(e.path());
      if (!smol::tokenizer::find_invalid_utf8(t)) all += t;
    }
  }
  return fill(all.empty() ? kProseFallback : all);
}

std::string code_text() {
  std::string all;
  for (const char* sub : {"tokenizer", "gguf", "kernels", "engine", "tools", "tests"}) {
    const fs::path dir = fs::path(SMOL_SOURCE_DIR) / sub;
    if (!fs::is_directory(dir)) continue;
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
      const auto ext = e.path().extension();
      if (!e.is_regular_file() || (ext != ".cpp" && ext != ".h")) continue;
      std::string t = read_all(e.path());
      if (!smol::tokenizer::find_invalid_utf8(t)) all += t;
      if (all.size() > kTargetBytes) break;
    }
  }
  return fill(all);
}

const Tokenizer& tokenizer() {
  std::string why;
  const Tokenizer* t = smol::tokenizer::testing::shared_llama3_tokenizer(&why);
  if (t == nullptr) {
    std::fprintf(stderr, "tokenizer_encode_bench: %s\n", why.c_str());
    std::exit(1);
  }
  return *t;
}

void run(benchmark::State& state, const std::string& text) {
  const Tokenizer& tok = tokenizer();
  size_t n_tokens = 0;
  for (auto _ : state) {
    auto ids = tok.encode(text);
    if (!ids.ok()) {
      state.SkipWithError(ids.error().c_str());
      return;
    }
    n_tokens = ids->size();
    benchmark::DoNotOptimize(ids->data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.counters["input_KiB"] = static_cast<double>(text.size()) / 1024.0;
  state.counters["bytes_per_token"] = static_cast<double>(text.size()) / n_tokens;
}

void BM_EncodeProse(benchmark::State& state) {
  static const std::string text = prose_text();
  run(state, text);
}
void BM_EncodeCode(benchmark::State& state) {
  static const std::string text = code_text();
  run(state, text);
}
void BM_EncodeCjk(benchmark::State& state) {
  static const std::string text = fill(kCjk);
  run(state, text);
}
void BM_EncodeChatTurn(benchmark::State& state) {  // a short prompt: per-call overhead
  const Tokenizer& tok = tokenizer();
  const std::string text =
      "<|im_start|>user\nWhat is the capital of France? Answer briefly.<|im_end|>\n"
      "<|im_start|>assistant\n";
  for (auto _ : state) benchmark::DoNotOptimize(tok.encode(text, true));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}

// Tokenizer::create on the 128,256-token vocabulary (merge table, special matcher, and one BPE
// per token for the whole-piece table); the copy of the input arrays is outside the timing.
void BM_Create(benchmark::State& state) {
  static const auto vocab = smol::tokenizer::testing::load_llama3_vocab(
      smol::tokenizer::testing::llama3_tokenizer_json_path());
  if (!vocab.ok()) {
    state.SkipWithError(vocab.error().c_str());
    return;
  }
  for (auto _ : state) {
    state.PauseTiming();
    smol::tokenizer::Vocab copy = *vocab;
    state.ResumeTiming();
    auto t = Tokenizer::create(std::move(copy));
    benchmark::DoNotOptimize(t.ok());
  }
}

BENCHMARK(BM_EncodeProse)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_EncodeCode)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_EncodeCjk)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_EncodeChatTurn)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Create)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace

BENCHMARK_MAIN();
