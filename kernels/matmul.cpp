// matvec / matmul drivers: prepare the activations once (Q8_K / Q8_0 / f32), then split the
// weight rows over an OpenMP team and hand each thread's row range to the tier's gemm kernel.
// Several matrices that read the same input (matmul_multi) share the preparation and the team.
// F32 weights with several tokens go to OpenBLAS sgemm.
#include <omp.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <span>
#include <vector>

#include "kernel_table.h"
#include "smol/kernels.h"

// OpenBLAS's CBLAS entry point, declared here so we need no particular cblas.h include path.
extern "C" void cblas_sgemm(int order, int trans_a, int trans_b, int m, int n, int k, float alpha,
                            const float* a, int lda, const float* b, int ldb, float beta, float* c,
                            int ldc);

namespace smol::kernels {

using namespace detail;

namespace {

constexpr int kCblasRowMajor = 101, kCblasNoTrans = 111, kCblasTrans = 112;
// Static row ranges are multiples of this, so tiled kernels see whole row tiles.
constexpr int64_t kRowGrain = 16;
// Decode's shared rows (KernelTable::decode_shared_rows): each claim takes 1/kGuidedShare of the
// call's rows still unclaimed per thread, and never less than kMinClaimBytes of weights. Claims
// shrink towards the end, so one thread waits for the other at most for one small claim
// (~3 us), while a call makes a few dozen claims, not thousands.
constexpr int64_t kGuidedShare = 2;
constexpr int64_t kMinClaimBytes = 32 * 1024;
// The most matrices one call takes (a layer's Q, K and V are three).
constexpr size_t kMaxTargets = 4;

std::atomic<int> g_threads{0};  // 0: OpenMP's default

// Activation formats the kernels read, each with its own scratch buffer. kActQ4K is Q8_K
// rearranged for the tier's Q4_K kernels (KernelTable::q4_K_acts), made from kActQ8K's blocks.
enum ActSlot { kActQ8K, kActQ4K, kActQ8_0, kActF32, kActSlots };

// Grow-only activation scratch of the calling thread (no allocation once it fits the shape).
uint8_t* activation_scratch(ActSlot slot, size_t bytes) {
  thread_local std::array<std::vector<uint8_t>, kActSlots> bufs;
  std::vector<uint8_t>& buf = bufs[slot];
  if (buf.size() < bytes) buf.resize(bytes);
  return buf.data();
}

struct Plan {
  GemmFn fn = nullptr;
  ActSlot act = kActF32;  // activation format the kernel expects
};

Plan plan_for(QuantType type) {
  const KernelTable& k = active_kernels();
  switch (type) {
    case QuantType::kQ4_K:
      return {k.gemm_q4_K, k.q4_K_acts != nullptr ? kActQ4K : kActQ8K};
    case QuantType::kQ6_K:
      return {k.gemm_q6_K, kActQ8K};
    case QuantType::kQ8_0:
      return {k.gemm_q8_0, kActQ8_0};
    case QuantType::kF16:
      return {k.gemm_f16, kActF32};
    case QuantType::kF32:
      return {k.gemm_f32, kActF32};
    default:
      break;
  }
  SMOL_CHECK(false, "matvec/matmul: unsupported weight type");
}

// One weight matrix of a call, with its rows' share of the work.
struct Job {
  GemmFn fn;
  const uint8_t* w;
  int64_t w_stride;
  int64_t rows;
  float* y;
  ActSlot act;
  int64_t min_claim;  // rows: the least a shared-rows claim takes
  int64_t row_from;   // index of its first row among the call's
};

// y_j = W_j x for every target, x quantized once per format, one team for all rows.
void run(std::span<const MatmulTarget> targets, int64_t cols, const float* x, int64_t n) {
  SMOL_CHECK(targets.size() <= kMaxTargets, "matmul_multi: too many matrices");
  SMOL_CHECK(n >= 0 && cols >= 0, "matvec/matmul: bad shape");
  std::array<Job, kMaxTargets> jobs;
  size_t n_jobs = 0;
  std::array<bool, kActSlots> need{};
  int64_t total_rows = 0;
  for (const MatmulTarget& t : targets) {
    SMOL_CHECK(matmul_supports(t.type), "matvec/matmul: unsupported weight type");
    SMOL_CHECK(t.rows >= 0 && row_length_ok(t.type, cols), "matvec/matmul: bad shape");
    if (t.rows == 0 || n == 0) continue;
    const Plan plan = plan_for(t.type);
    jobs[n_jobs++] = {.fn = plan.fn,
                      .w = static_cast<const uint8_t*>(t.w),
                      .w_stride = row_bytes(t.type, cols),
                      .rows = t.rows,
                      .y = t.y,
                      .act = plan.act,
                      .min_claim = 0,
                      .row_from = 0};
    need[plan.act] = true;
    if (plan.act == kActQ4K) need[kActQ8K] = true;  // made from Q8_K
    total_rows += t.rows;
  }
  if (n_jobs == 0) return;

  const KernelTable& k = active_kernels();
  std::array<uint8_t*, kActSlots> acts{};
  std::array<int64_t, kActSlots> x_stride{};
  for (int s = 0; s < kActSlots; ++s) {
    if (!need[s]) continue;
    switch (s) {
      case kActQ8K:
        x_stride[s] = row_bytes(QuantType::kQ8_K, cols);
        break;
      case kActQ4K:
        x_stride[s] = cols / kQK * k.q4_K_act_block_bytes;
        break;
      case kActQ8_0:
        x_stride[s] = row_bytes(QuantType::kQ8_0, cols);
        break;
      default:
        x_stride[s] = row_bytes(QuantType::kF32, cols);
        break;
    }
    // The kernels only read; f32 activations are the caller's own.
    acts[s] = s == kActF32 ? const_cast<uint8_t*>(reinterpret_cast<const uint8_t*>(x))
                           : activation_scratch(static_cast<ActSlot>(s),
                                                static_cast<size_t>(x_stride[s] * n));
  }

  const int64_t max_threads = std::max<int64_t>(1, (total_rows + kRowGrain - 1) / kRowGrain);
  const int team = static_cast<int>(std::min<int64_t>(num_threads(), max_threads));
  const bool shared_rows = n == 1 && k.decode_shared_rows;
  for (size_t j = 0, from = 0; j < n_jobs; from += jobs[j].rows, ++j) {
    jobs[j].min_claim =
        std::max<int64_t>(1, kMinClaimBytes / std::max<int64_t>(1, jobs[j].w_stride));
    jobs[j].row_from = static_cast<int64_t>(from);
  }
  auto rows_of = [&](const Job& job, int64_t r0, int64_t r1) {
    job.fn(job.w, job.w_stride, acts[job.act], x_stride[job.act], cols, job.y, job.rows, r0, r1, 0,
           n);
  };
  std::atomic<int64_t> next_row{0};  // over the call's rows, matrix after matrix
#pragma omp parallel num_threads(team)
  {
    if (need[kActQ8K] || need[kActQ8_0]) {
      // Blocks quantize independently, so with fewer tokens than threads (decode) each token is
      // split into pieces of whole blocks and the threads share it too.
      const int64_t unit = need[kActQ8K] ? kQK : kQK8_0;
      const int64_t units = cols / unit;
      const int64_t parts = n >= team ? 1 : std::min<int64_t>(team, units);
#pragma omp for schedule(static)
      for (int64_t item = 0; item < n * parts; ++item) {
        const int64_t t = item / parts, part = item % parts;
        const int64_t e0 = units * part / parts * unit, e1 = units * (part + 1) / parts * unit;
        const float* xs = x + t * cols + e0;
        if (need[kActQ8K]) {
          uint8_t* q8 = acts[kActQ8K] + t * x_stride[kActQ8K] + row_bytes(QuantType::kQ8_K, e0);
          k.quantize_q8_K(xs, q8, e1 - e0);
          if (need[kActQ4K]) {
            k.q4_K_acts(q8,
                        acts[kActQ4K] + t * x_stride[kActQ4K] + e0 / kQK * k.q4_K_act_block_bytes,
                        (e1 - e0) / kQK);
          }
        }
        if (need[kActQ8_0]) {
          quantize_row_q8_0(
              xs, acts[kActQ8_0] + t * x_stride[kActQ8_0] + row_bytes(QuantType::kQ8_0, e0),
              e1 - e0);
        }
      }
      // implicit barrier: every thread needs every token's activations
    }
    if (shared_rows) {
      // One-token kernels take any row range (no row tiles), so claims need no grain.
      size_t j = 0;
      int64_t r = next_row.load(std::memory_order_relaxed);
      while (r < total_rows) {
        while (r >= jobs[j].row_from + jobs[j].rows) ++j;  // r only grows
        const Job& job = jobs[j];
        const int64_t want = std::max(job.min_claim, (total_rows - r) / (kGuidedShare * team));
        const int64_t end = std::min(r + want, job.row_from + job.rows);
        if (next_row.compare_exchange_weak(r, end, std::memory_order_relaxed)) {
          rows_of(job, r - job.row_from, end - job.row_from);
          r = next_row.load(std::memory_order_relaxed);
        }
      }
    } else {
      const int64_t id = omp_get_thread_num(), nt = omp_get_num_threads();
      for (size_t j = 0; j < n_jobs; ++j) {
        const Job& job = jobs[j];
        const int64_t per = (job.rows + nt - 1) / nt;
        const int64_t chunk = (per + kRowGrain - 1) / kRowGrain * kRowGrain;
        const int64_t r0 = std::min(job.rows, id * chunk), r1 = std::min(job.rows, r0 + chunk);
        if (r0 < r1) rows_of(job, r0, r1);
      }
    }
  }
}

// F32 weights with several tokens: y[n][rows] = x[n][cols] · Wᵀ, a plain f32 GEMM, which
// OpenBLAS does best.
void sgemm(const MatmulTarget& t, int64_t cols, const float* x, int64_t n) {
  SMOL_CHECK(cols <= INT32_MAX && t.rows <= INT32_MAX && n <= INT32_MAX, "matmul: shape too big");
  cblas_sgemm(kCblasRowMajor, kCblasNoTrans, kCblasTrans, static_cast<int>(n),
              static_cast<int>(t.rows), static_cast<int>(cols), 1.0f, x, static_cast<int>(cols),
              static_cast<const float*>(t.w), static_cast<int>(cols), 0.0f, t.y,
              static_cast<int>(t.rows));
}

bool takes_sgemm(const MatmulTarget& t, int64_t cols, int64_t n) {
  return t.type == QuantType::kF32 && n > 1 && t.rows > 0 && cols > 0;
}

}  // namespace

void set_num_threads(int n) { g_threads.store(std::max(0, n)); }

int num_threads() {
  const int n = g_threads.load();
  return n > 0 ? n : std::max(1, omp_get_max_threads());
}

bool matmul_supports(QuantType type) {
  switch (type) {
    case QuantType::kF32:
    case QuantType::kF16:
    case QuantType::kQ8_0:
    case QuantType::kQ4_K:
    case QuantType::kQ6_K:
      return true;
    default:
      return false;
  }
}

void matvec(QuantType type, const void* w, int64_t rows, int64_t cols, const float* x, float* y) {
  const MatmulTarget t{type, w, rows, y};
  run({&t, 1}, cols, x, 1);
}

void matmul(QuantType type, const void* w, int64_t rows, int64_t cols, const float* x, int64_t n,
            float* y) {
  const MatmulTarget t{type, w, rows, y};
  matmul_multi({&t, 1}, cols, x, n);
}

void matmul_multi(std::span<const MatmulTarget> targets, int64_t cols, const float* x, int64_t n) {
  std::array<MatmulTarget, kMaxTargets> rest;
  size_t n_rest = 0;
  SMOL_CHECK(targets.size() <= kMaxTargets, "matmul_multi: too many matrices");
  for (const MatmulTarget& t : targets) {
    if (takes_sgemm(t, cols, n)) {
      SMOL_CHECK(row_length_ok(t.type, cols) && t.rows >= 0, "matvec/matmul: bad shape");
      sgemm(t, cols, x, n);
    } else {
      rest[n_rest++] = t;
    }
  }
  run({rest.data(), n_rest}, cols, x, n);
}

}  // namespace smol::kernels
