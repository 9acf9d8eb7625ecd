// Benchmarks of the f32 transformer ops at SmolLM3-3B shapes (d_model 2048, 16 query heads,
// 4 KV heads, head_dim 128, FFN 11008). Every benchmark takes the ISA tier (0 scalar, 1 avx2,
// 2 avx512) and, where threaded, the OpenMP thread count as arguments.
//
//   build-*/bin/ops_bench --benchmark_filter=Attention
#include <benchmark/benchmark.h>
#include <omp.h>

#include <cmath>
#include <random>
#include <vector>

#include "smol/fp16.h"
#include "smol/kernels.h"
#include "smol/ops.h"

namespace smol::kernels {
namespace {

constexpr int kHead = 16, kHeadKv = 4, kHeadDim = 128, kEmbd = 2048, kFfn = 11008;

std::vector<float> random_floats(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

// Sets tier and threads from the arguments; false (and the run is skipped) if unsupported.
bool setup(benchmark::State& state, int isa_arg, int threads_arg = -1) {
  const auto isa = static_cast<Isa>(state.range(isa_arg));
  if (!isa_supported(isa) || !set_isa(isa).ok()) {
    state.SkipWithError("ISA tier not supported by this CPU");
    return false;
  }
  if (threads_arg >= 0) omp_set_num_threads(static_cast<int>(state.range(threads_arg)));
  state.SetLabel(isa_name(isa));
  return true;
}

struct Cache {
  std::vector<uint16_t> k, v;
  KvCacheView view;
  explicit Cache(int n_ctx) {
    view.n_head_kv = kHeadKv;
    view.n_ctx = n_ctx;
    view.head_dim = kHeadDim;
    const auto src = random_floats(view.elements(), 1);
    k.resize(view.elements());
    v.resize(view.elements());
    f32_to_f16_row(src.data(), k.data(), static_cast<int64_t>(src.size()));
    f32_to_f16_row(src.data(), v.data(), static_cast<int64_t>(src.size()));
    view.k = k.data();
    view.v = v.data();
  }
};

// Causal attention FLOPs (q.k and p.v, 2 each per multiply-add) for n tokens after pos0.
double attention_flops(int64_t pos0, int n) {
  double pairs = 0;
  for (int t = 0; t < n; ++t) pairs += static_cast<double>(pos0 + t + 1);
  return pairs * kHead * kHeadDim * 4.0;
}

// Decode: one query token at the end of a context of range(0) positions. Reports the KV bytes
// streamed (f16 K and V of the 4 KV heads) per second.
void BM_AttentionDecode(benchmark::State& state) {
  if (!setup(state, 1, 2)) return;
  const int ctx = static_cast<int>(state.range(0));
  Cache cache(ctx);
  const auto q = random_floats(kHead * kHeadDim, 2);
  std::vector<float> out(q.size());
  std::vector<float> scratch(attention_scratch_floats(cache.view, kHead, omp_get_max_threads()));
  const float scale = 1.0f / std::sqrt(static_cast<float>(kHeadDim));
  for (auto _ : state) {
    attention(q.data(), cache.view, kHead, ctx - 1, 1, scale, out.data(), scratch.data(),
              scratch.size());
    benchmark::DoNotOptimize(out.data());
  }
  const double kv_bytes = 2.0 * kHeadKv * ctx * kHeadDim * 2;
  state.counters["KV_GB/s"] =
      benchmark::Counter(kv_bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["GFLOP/s"] = benchmark::Counter(attention_flops(ctx - 1, 1) * 1e-9,
                                                 benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_AttentionDecode)
    ->ArgNames({"ctx", "isa", "threads"})
    ->ArgsProduct({{512, 4096}, {0, 1, 2}, {1, 2}})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

// Prefill: range(0) query tokens after a cached prefix of range(1) positions.
void BM_AttentionPrefill(benchmark::State& state) {
  if (!setup(state, 2, 3)) return;
  const int n = static_cast<int>(state.range(0));
  const int64_t pos0 = state.range(1);
  Cache cache(static_cast<int>(pos0) + n);
  const auto q = random_floats(static_cast<size_t>(n) * kHead * kHeadDim, 3);
  std::vector<float> out(q.size());
  std::vector<float> scratch(attention_scratch_floats(cache.view, kHead, omp_get_max_threads()));
  const float scale = 1.0f / std::sqrt(static_cast<float>(kHeadDim));
  for (auto _ : state) {
    attention(q.data(), cache.view, kHead, pos0, n, scale, out.data(), scratch.data(),
              scratch.size());
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(attention_flops(pos0, n) * 1e-9,
                                                 benchmark::Counter::kIsIterationInvariantRate);
  state.counters["tok/s"] = benchmark::Counter(n, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_AttentionPrefill)
    ->ArgNames({"tokens", "pos0", "isa", "threads"})
    ->ArgsProduct({{512}, {0, 3584}, {0, 1, 2}, {1, 2}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// The same prefill done as one decode call per token: the baseline the tiled SGEMM path beats.
void BM_AttentionPrefillAsDecodeLoop(benchmark::State& state) {
  if (!setup(state, 2, 3)) return;
  const int n = static_cast<int>(state.range(0));
  const int64_t pos0 = state.range(1);
  Cache cache(static_cast<int>(pos0) + n);
  const size_t row = static_cast<size_t>(kHead) * kHeadDim;
  const auto q = random_floats(n * row, 3);
  std::vector<float> out(q.size());
  std::vector<float> scratch(attention_scratch_floats(cache.view, kHead, omp_get_max_threads()));
  const float scale = 1.0f / std::sqrt(static_cast<float>(kHeadDim));
  for (auto _ : state) {
    for (int t = 0; t < n; ++t) {
      attention(q.data() + t * row, cache.view, kHead, pos0 + t, 1, scale, out.data() + t * row,
                scratch.data(), scratch.size());
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(attention_flops(pos0, n) * 1e-9,
                                                 benchmark::Counter::kIsIterationInvariantRate);
  state.counters["tok/s"] = benchmark::Counter(n, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_AttentionPrefillAsDecodeLoop)
    ->ArgNames({"tokens", "pos0", "isa", "threads"})
    ->ArgsProduct({{512}, {0, 3584}, {2}, {2}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void BM_RmsNorm(benchmark::State& state) {
  if (!setup(state, 0)) return;
  const auto x = random_floats(kEmbd, 4);
  const auto w = random_floats(kEmbd, 5);
  std::vector<float> out(kEmbd);
  for (auto _ : state) {
    rms_norm(x.data(), w.data(), out.data(), kEmbd, 1e-6f);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(state.iterations() * kEmbd * 3 * sizeof(float));
}
BENCHMARK(BM_RmsNorm)->ArgNames({"isa"})->DenseRange(0, 2);

// RoPE of one token's q (16 heads) at a large position: dominated by the 64 cosf/sinf pairs.
void BM_RopeQ(benchmark::State& state) {
  auto x = random_floats(kHead * kHeadDim, 6);
  for (auto _ : state) {
    rope_norm(x.data(), kHead, kHeadDim, 60000, 5e6f);
    benchmark::DoNotOptimize(x.data());
  }
}
BENCHMARK(BM_RopeQ);

void BM_SiluMul(benchmark::State& state) {
  if (!setup(state, 0)) return;
  const auto g = random_floats(kFfn, 7);
  const auto u = random_floats(kFfn, 8);
  std::vector<float> out(kFfn);
  for (auto _ : state) {
    silu_mul(g.data(), u.data(), out.data(), kFfn);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * kFfn);
}
BENCHMARK(BM_SiluMul)->ArgNames({"isa"})->DenseRange(0, 2);

void BM_Softmax(benchmark::State& state) {
  if (!setup(state, 0)) return;
  const auto src = random_floats(4096, 9);
  std::vector<float> x(src.size());
  for (auto _ : state) {
    x = src;
    softmax(x.data(), static_cast<int64_t>(x.size()));
    benchmark::DoNotOptimize(x.data());
  }
  state.SetItemsProcessed(state.iterations() * 4096);
}
BENCHMARK(BM_Softmax)->ArgNames({"isa"})->DenseRange(0, 2);

void BM_KvStore(benchmark::State& state) {
  if (!setup(state, 0)) return;
  Cache cache(4096);
  const auto k = random_floats(kHeadKv * kHeadDim, 10);
  for (auto _ : state) {
    kv_store(cache.view, 1234, k.data(), k.data());
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_KvStore)->ArgNames({"isa"})->DenseRange(0, 2);

}  // namespace
}  // namespace smol::kernels

BENCHMARK_MAIN();
