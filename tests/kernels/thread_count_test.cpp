// set_num_threads() holds for every parallel kernel, not only matmul. Observed from outside:
// libgomp creates its worker threads the first time a team of that size runs and keeps them, so
// the number of threads in /proc/self/task shows the largest team any kernel has started.
// OpenMP's own default is raised to 4 first, so a parallel region that forgets num_threads()
// starts 3 workers even on a 2-core machine. (The bug this guards against: on 16 cores,
// RMSNorm, RoPE and attention ran 16-thread teams under -t 4, and decode fell to 5 tok/s.)
// Its own binary: the count is per process, and no other test may have started a team first.
#include <gtest/gtest.h>
#include <omp.h>

#include <filesystem>
#include <random>
#include <vector>

#include "smol/kernels.h"
#include "smol/ops.h"

namespace smol::kernels {
namespace {

int threads_in_process() {
  int n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/task")) ++n;
  return n;
}

// Runs each threaded kernel once, at sizes where it does start a parallel region.
void run_every_parallel_kernel() {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  auto floats = [&](size_t n) {
    std::vector<float> v(n);
    for (auto& x : v) x = u(rng);
    return v;
  };
  const int64_t rows = 256, cols = 512;
  const auto wf = floats(static_cast<size_t>(rows * cols));
  std::vector<uint8_t> w(static_cast<size_t>(rows * row_bytes(QuantType::kQ4_K, cols)));
  for (int64_t r = 0; r < rows; ++r) {
    quantize_row(QuantType::kQ4_K, wf.data() + r * cols,
                 w.data() + r * row_bytes(QuantType::kQ4_K, cols), cols);
  }
  const auto x = floats(static_cast<size_t>(16 * cols));
  std::vector<float> y(static_cast<size_t>(16 * rows));
  matvec(QuantType::kQ4_K, w.data(), rows, cols, x.data(), y.data());
  matmul(QuantType::kQ4_K, w.data(), rows, cols, x.data(), 4, y.data());
  matmul(QuantType::kQ4_K, w.data(), rows, cols, x.data(), 16, y.data());

  const auto norm_w = floats(cols);
  std::vector<float> out(static_cast<size_t>(16 * cols));
  rms_norm_rows(x.data(), norm_w.data(), out.data(), 16, cols, 1e-6f);
  const std::vector<int64_t> pos = {0, 1, 2, 3, 4, 5, 6, 7};
  rope_norm_tokens(out.data(), 8, 8, 64, pos.data(), 5e6f);
  const auto big_a = floats(1 << 17), big_b = floats(1 << 17);
  std::vector<float> big_out(big_a.size());
  silu_mul(big_a.data(), big_b.data(), big_out.data(), static_cast<int64_t>(big_a.size()));
  add(big_a.data(), big_b.data(), big_out.data(), static_cast<int64_t>(big_a.size()));

  KvCacheView cache;
  std::vector<uint16_t> k_mem, v_mem;
  cache.n_head_kv = 4;
  cache.n_ctx = 64;
  cache.head_dim = 64;
  k_mem.assign(cache.elements(), 0);
  v_mem.assign(cache.elements(), 0);
  cache.k = k_mem.data();
  cache.v = v_mem.data();
  const int n_head = 16, n_tokens = 4;
  const auto kv = floats(static_cast<size_t>(n_tokens * cache.n_head_kv * cache.head_dim));
  kv_store_tokens(cache, 0, n_tokens, kv.data(), kv.data());
  const auto q = floats(static_cast<size_t>(n_tokens * n_head * cache.head_dim));
  std::vector<float> att(q.size());
  std::vector<float> scratch(attention_scratch_floats(cache, n_head, 8));
  attention(q.data(), cache, n_head, 3, 1, 0.125f, att.data(), scratch.data(), scratch.size());
  attention(q.data(), cache, n_head, 0, n_tokens, 0.125f, att.data(), scratch.data(),
            scratch.size());
}

TEST(Threads, EveryParallelKernelUsesTheSetCount) {
  omp_set_num_threads(4);
  const int before = threads_in_process();
  set_num_threads(1);
  run_every_parallel_kernel();
  EXPECT_EQ(threads_in_process(), before) << "a kernel started a team while set to 1 thread";

  set_num_threads(3);
  run_every_parallel_kernel();
  EXPECT_EQ(threads_in_process(), before + 2) << "teams of 3: two libgomp workers, no more";
  set_num_threads(0);
}

}  // namespace
}  // namespace smol::kernels
