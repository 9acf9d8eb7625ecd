// Kernel microbenchmarks at SmolLM3-3B shapes (d_model 2048, FFN 11008, KV 512, vocab 128256):
// one dot per tier, matvec (decode) and matmul (prefill, 512 tokens) per tier and thread count,
// and a STREAM-style read-bandwidth benchmark to judge matvec against.
//
// Counters: bytes_per_second = weight bytes read (or buffer bytes for the read benchmark),
// FLOP/s = 2·rows·cols·tokens, tok/s = tokens processed per second.
//
// "cold" matvec rotates over enough copies of the weights (>= 256 MiB) that every call streams
// them from DRAM, as decode does with 1.9 GB of weights per token; "hot" reuses one copy, which
// fits in the 32 MiB L3 for the small shapes.
//
// Run: build-*/bin/matmul_bench --benchmark_min_time=0.2 [--benchmark_filter=...]
#include <benchmark/benchmark.h>
#include <omp.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "bench_memory.h"
#include "smol/kernels.h"

namespace smol::kernels {
namespace {

constexpr int64_t kColdBytes = int64_t{256} << 20;

std::vector<uint8_t> random_blocks(QuantType type, int64_t rows, int64_t cols, uint32_t seed) {
  std::vector<uint8_t> w(static_cast<size_t>(row_bytes(type, cols) * rows));
  bench::fill_random_blocks(w.data(), type, rows, cols, seed);
  return w;
}

// The weights of the benchmark now running (one set at a time keeps memory use bounded).
struct Weights {
  QuantType type;
  int64_t rows, cols, copies;
  std::vector<uint8_t> bytes;
  int64_t matrix_bytes() const { return row_bytes(type, cols) * rows; }
  const uint8_t* copy(int64_t i) const { return bytes.data() + (i % copies) * matrix_bytes(); }
};

const Weights& weights(QuantType type, int64_t rows, int64_t cols, bool cold) {
  static std::unique_ptr<Weights> current;
  const int64_t mb = row_bytes(type, cols) * rows;
  const int64_t copies = cold ? std::max<int64_t>(2, (kColdBytes + mb - 1) / mb) : 1;
  if (!current || current->type != type || current->rows != rows || current->cols != cols ||
      current->copies != copies) {
    current.reset();
    auto w = std::make_unique<Weights>(Weights{type, rows, cols, copies, {}});
    const auto one = random_blocks(type, rows, cols, 42);
    w->bytes.resize(static_cast<size_t>(mb * copies));
    for (int64_t i = 0; i < copies; ++i)
      std::memcpy(w->bytes.data() + i * mb, one.data(), one.size());
    current = std::move(w);
  }
  return *current;
}

std::vector<float> activations(int64_t n) {
  std::mt19937 rng(7);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(n));
  for (float& v : x) v = dist(rng);
  return x;
}

bool enter(benchmark::State& state, Isa isa, int threads) {
  if (!set_isa(isa).ok()) {
    state.SkipWithError("ISA tier not supported by this CPU");
    return false;
  }
  set_num_threads(threads);
  return true;
}

void set_counters(benchmark::State& state, double bytes, double flops, double tokens) {
  using benchmark::Counter;
  state.counters["bytes_per_second"] =
      Counter(bytes, Counter::kIsIterationInvariantRate, Counter::kIs1000);
  state.counters["FLOP/s"] = Counter(flops, Counter::kIsIterationInvariantRate, Counter::kIs1000);
  state.counters["tok/s"] = Counter(tokens, Counter::kIsIterationInvariantRate);
}

void bm_matvec(benchmark::State& state, QuantType type, int64_t rows, int64_t cols, Isa isa,
               int threads, bool cold) {
  if (!enter(state, isa, threads)) return;
  const Weights& w = weights(type, rows, cols, cold);
  const auto x = activations(cols);
  std::vector<float> y(static_cast<size_t>(rows));
  int64_t i = 0;
  for (auto _ : state) {
    matvec(type, w.copy(i++), rows, cols, x.data(), y.data());
    benchmark::DoNotOptimize(y.data());
  }
  set_counters(state, static_cast<double>(w.matrix_bytes()), 2.0 * rows * cols, 1.0);
}

void bm_matmul(benchmark::State& state, QuantType type, int64_t rows, int64_t cols, int64_t n,
               Isa isa, int threads) {
  if (!enter(state, isa, threads)) return;
  const Weights& w = weights(type, rows, cols, false);
  const auto x = activations(cols * n);
  std::vector<float> y(static_cast<size_t>(rows * n));
  for (auto _ : state) {
    matmul(type, w.copy(0), rows, cols, x.data(), n, y.data());
    benchmark::DoNotOptimize(y.data());
  }
  set_counters(state, static_cast<double>(w.matrix_bytes()), 2.0 * rows * cols * n,
               static_cast<double>(n));
}

void bm_dot(benchmark::State& state, QuantType type, int64_t n, Isa isa) {
  if (!enter(state, isa, 1)) return;
  const auto w = random_blocks(type, 1, n, 3);
  const auto x = activations(n);
  std::vector<uint8_t> a(static_cast<size_t>(row_bytes(QuantType::kQ8_K, n)));
  std::vector<uint8_t> a0(static_cast<size_t>(row_bytes(QuantType::kQ8_0, n)));
  quantize_row_q8_K(x.data(), a.data(), n);
  quantize_row_q8_0(x.data(), a0.data(), n);
  for (auto _ : state) {
    float v = 0.0f;
    switch (type) {
      case QuantType::kQ4_K:
        v = vec_dot_q4_K_q8_K(n, w.data(), a.data());
        break;
      case QuantType::kQ6_K:
        v = vec_dot_q6_K_q8_K(n, w.data(), a.data());
        break;
      case QuantType::kQ8_0:
        v = vec_dot_q8_0_q8_0(n, w.data(), a0.data());
        break;
      case QuantType::kF16:
        v = vec_dot_f16_f32(n, reinterpret_cast<const uint16_t*>(w.data()), x.data());
        break;
      default:
        v = vec_dot_f32(n, reinterpret_cast<const float*>(w.data()), x.data());
        break;
    }
    benchmark::DoNotOptimize(v);
  }
  set_counters(state, static_cast<double>(w.size()), 2.0 * n, 0.0);
}

void bm_quantize_q8_K(benchmark::State& state, int64_t n, Isa isa) {
  if (!enter(state, isa, 1)) return;
  const auto x = activations(n);
  std::vector<uint8_t> a(static_cast<size_t>(row_bytes(QuantType::kQ8_K, n)));
  for (auto _ : state) {
    quantize_row_q8_K(x.data(), a.data(), n);
    benchmark::DoNotOptimize(a.data());
  }
  set_counters(state, 4.0 * n, 0.0, 0.0);
}

// STREAM-style read: every 64-bit word of a buffer summed by `threads` OpenMP threads, each
// reading one contiguous part (like matvec's row split).
void bm_read_bandwidth(benchmark::State& state, int64_t bytes, int threads) {
  std::vector<uint64_t> buf(static_cast<size_t>(bytes / 8));
  for (size_t i = 0; i < buf.size(); ++i) buf[i] = i;
  const int64_t n = static_cast<int64_t>(buf.size());
  const uint64_t* p = buf.data();
  for (auto _ : state) {
    uint64_t total = 0;
#pragma omp parallel num_threads(threads) reduction(+ : total)
    {
      const int64_t id = omp_get_thread_num(), nt = omp_get_num_threads();
      const int64_t begin = n * id / nt, end = n * (id + 1) / nt;
      total += bench::sum_bytes(reinterpret_cast<const uint8_t*>(p + begin),
                                static_cast<size_t>(end - begin) * 8);
    }
    benchmark::DoNotOptimize(total);
  }
  set_counters(state, static_cast<double>(bytes), 0.0, 0.0);
}

std::vector<Isa> tiers() { return {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}; }

struct Shape {
  QuantType type;
  int64_t cols, rows;  // rows = output features
};

void register_all() {
  using benchmark::RegisterBenchmark;
  // Every thread count up to the hardware threads (at least 2): thread-scaling runs
  // (benchmarks/compare-llamacpp.sh) judge decode at T threads against T threads' bandwidth.
  for (int threads = 1; threads <= std::max(2, omp_get_num_procs()); ++threads) {
    for (int64_t mib : {12, 256}) {
      RegisterBenchmark(
          ("read_bandwidth/" + std::to_string(mib) + "MiB/threads:" + std::to_string(threads))
              .c_str(),
          bm_read_bandwidth, mib << 20, threads)
          ->UseRealTime();
    }
  }
  for (Isa isa : tiers()) {
    for (QuantType t :
         {QuantType::kQ4_K, QuantType::kQ6_K, QuantType::kQ8_0, QuantType::kF16, QuantType::kF32}) {
      for (int64_t n : {2048, 11008}) {
        RegisterBenchmark((std::string("dot/") + quant_type_name(t) + "/" + std::to_string(n) +
                           "/" + isa_name(isa))
                              .c_str(),
                          bm_dot, t, n, isa);
      }
    }
    RegisterBenchmark((std::string("quantize_q8_K/2048/") + isa_name(isa)).c_str(),
                      bm_quantize_q8_K, 2048, isa);
  }
  const Shape shapes[] = {
      {QuantType::kQ4_K, 2048, 2048},   {QuantType::kQ4_K, 2048, 512},
      {QuantType::kQ4_K, 2048, 11008},  {QuantType::kQ4_K, 11008, 2048},
      {QuantType::kQ6_K, 2048, 2048},   {QuantType::kQ6_K, 2048, 512},
      {QuantType::kQ6_K, 2048, 11008},  {QuantType::kQ6_K, 11008, 2048},
      {QuantType::kQ6_K, 2048, 128256},
  };
  for (const Shape& s : shapes) {
    for (Isa isa : tiers()) {
      for (int threads : {1, 2}) {
        const std::string name = std::string("matvec/") + quant_type_name(s.type) + "/" +
                                 std::to_string(s.cols) + "x" + std::to_string(s.rows) + "/" +
                                 isa_name(isa) + "/threads:" + std::to_string(threads);
        RegisterBenchmark((name + "/cold").c_str(), bm_matvec, s.type, s.rows, s.cols, isa, threads,
                          true)
            ->UseRealTime();
        if (s.type == QuantType::kQ4_K && s.rows == 11008) {
          RegisterBenchmark((name + "/hot").c_str(), bm_matvec, s.type, s.rows, s.cols, isa,
                            threads, false)
              ->UseRealTime();
        }
      }
    }
  }
  // Prefill: 512 tokens (llama.cpp's default micro-batch). The scalar tier would take seconds
  // per call; it is benchmarked at matvec only.
  const Shape prefill[] = {{QuantType::kQ4_K, 2048, 11008},
                           {QuantType::kQ4_K, 11008, 2048},
                           {QuantType::kQ6_K, 2048, 2048},
                           {QuantType::kF32, 2048, 2048}};
  for (const Shape& s : prefill) {
    for (Isa isa : {Isa::kAvx2, Isa::kAvx512}) {
      for (int threads : {1, 2}) {
        RegisterBenchmark((std::string("matmul/") + quant_type_name(s.type) + "/" +
                           std::to_string(s.cols) + "x" + std::to_string(s.rows) + "/tokens:512/" +
                           isa_name(isa) + "/threads:" + std::to_string(threads))
                              .c_str(),
                          bm_matmul, s.type, s.rows, s.cols, int64_t{512}, isa, threads)
            ->UseRealTime()
            ->Unit(benchmark::kMillisecond);
      }
    }
  }
}

}  // namespace
}  // namespace smol::kernels

int main(int argc, char** argv) {
  smol::kernels::register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("isa_best", smol::kernels::isa_name(smol::kernels::best_isa()));
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
