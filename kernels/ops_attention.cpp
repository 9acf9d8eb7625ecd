// Causal GQA attention over the f16 KV cache (contract in smol/ops.h).
//
// Decode (one query token): one work item per KV head; its n_head/n_head_kv query heads are
// scored together so every K/V row is converted from f16 once and reused while in L1. Exact
// two-pass softmax over the full score row.
//
// Prefill (n_tokens > 1): work items are (KV head, tile of kPrefillTokens query tokens). Each
// item walks the cache in blocks of kPrefillBlock positions, converts the K/V block to f32 and
// uses two single-threaded OpenBLAS SGEMMs per block (S = Q K^T, O += P V) with an online
// softmax between them, so scratch does not grow with the context. Blocks and rows that the
// causal mask hides entirely are skipped. Tile sizes never depend on the thread count, so results
// are identical for any number of threads.
#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "ops_internal.h"
#include "smol/kernels.h"
#include "smol/ops.h"
#include "smol/result.h"

// OpenBLAS's own thread pool would fight our OpenMP threads (each item calls SGEMM from inside
// a parallel region), so prefill runs OpenBLAS single-threaded and restores its thread count
// afterwards (other callers, e.g. the F32 matmul, keep their threaded GEMM). Weak, so another
// BLAS links too (its own threading is then left alone).
extern "C" void openblas_set_num_threads(int num_threads);
extern "C" int openblas_get_num_threads(void);
#pragma weak openblas_set_num_threads
#pragma weak openblas_get_num_threads

namespace smol::kernels {
namespace {

constexpr int kPrefillTokens = 32;  // query tokens per prefill tile
constexpr int kPrefillBlock = 256;  // cache positions per online-softmax block
// llama.cpp's CPU flash attention runs micro-batches of this many rows or more through its tiled
// kernel, which keeps q in f32, and smaller ones (decode included) through a kernel that rounds
// q to f16. Every later Q8_K activation rounding amplifies a difference here (the random test
// models turn a 5e-4 relative change of q into top-1 flips), so we round exactly when it does.
constexpr int kLlamaTiledRows = 64;
// A one-token decode over at most this many cache positions (512 padded cells in llama.cpp)
// runs its one-chunk kernel; longer contexts take its split-KV kernel.
constexpr int64_t kLlamaOneChunkCells = 256;
constexpr int kMaxHeadDim = 256;
constexpr size_t kAlign = 16;  // floats; keeps each thread's slice on its own cache lines

size_t round_up(size_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

// Floats for q rows rounded through f16: the f16 staging (2 per float) plus the f32 rows.
size_t q_stage_floats(size_t n) { return round_up((n + 1) / 2) + round_up(n); }

size_t decode_floats(const KvCacheView& c, int group) {
  const size_t q = static_cast<size_t>(group) * c.head_dim;
  return q_stage_floats(q) + round_up(static_cast<size_t>(group) * c.n_ctx);
}

struct PrefillLayout {
  size_t rows, hd;
  size_t q, k, v, s, o, m, l, total;  // offsets in floats
};

PrefillLayout prefill_layout(const KvCacheView& c, int group) {
  PrefillLayout p;
  p.rows = static_cast<size_t>(group) * kPrefillTokens;
  p.hd = c.head_dim;
  p.q = 0;                                       // f16 staging + Q [rows][hd]
  p.k = p.q + q_stage_floats(p.rows * p.hd);     // K block [B][hd]
  p.v = p.k + round_up(kPrefillBlock * p.hd);    // V block [B][hd]
  p.s = p.v + round_up(kPrefillBlock * p.hd);    // S / P [rows][B]
  p.o = p.s + round_up(p.rows * kPrefillBlock);  // O [rows][hd]
  p.m = p.o + round_up(p.rows * p.hd);           // running max [rows]
  p.l = p.m + round_up(p.rows);                  // running sum [rows]
  p.total = p.l + round_up(p.rows);
  return p;
}

size_t per_thread_floats(const KvCacheView& c, int group) {
  return std::max(decode_floats(c, group), prefill_layout(c, group).total);
}

// Copies n floats of q to dst, rounded to f16 precision when round_f16 (see kLlamaTiledRows).
void stage_q(const ops_detail::OpsTable& t, const float* src, float* dst, size_t n, float* stage,
             bool round_f16) {
  if (!round_f16) {
    std::copy(src, src + n, dst);
    return;
  }
  auto* half = reinterpret_cast<uint16_t*>(stage);
  t.f32_to_f16(src, half, static_cast<int64_t>(n));
  t.f16_to_f32(half, dst, static_cast<int64_t>(n));
}

// llama.cpp's one-chunk flash-attention kernel for one query row, given its scaled scores:
// positions in order, an online softmax whose V accumulator is rounded to f16 after every
// rescale and every multiply-add, with expf as it calls it. Its AVX-512 build fuses the
// multiply-add; a portable build has no FMA instruction (std::fma would be a libm call per
// element), and the unfused result differs in the last f32 bit, which rarely survives the f16
// rounding that follows.
void one_chunk_row(const ops_detail::OpsTable& t, const float* scores, const KvCacheView& c, int g,
                   int64_t n_kv, float* out) {
  const int hd = c.head_dim;
  float y[kMaxHeadDim] = {};
  float vrow[kMaxHeadDim];
  uint16_t half[kMaxHeadDim];
  auto round_y = [&] {
    t.f32_to_f16(y, half, hd);
    t.f16_to_f32(half, y, hd);
  };
  float m = -std::numeric_limits<float>::infinity();
  float sum = 0.0f;
  for (int64_t j = 0; j < n_kv; ++j) {
    const float sj = scores[j];
    float ms = 1.0f;
    float vs = 1.0f;
    if (sj > m) {
      const float m_old = m;
      m = sj;
      ms = std::exp(m_old - m);
      for (int d = 0; d < hd; ++d) y[d] *= ms;
      round_y();
    } else {
      vs = std::exp(sj - m);
    }
    t.f16_to_f32(c.v + c.offset(g, j), vrow, hd);
    for (int d = 0; d < hd; ++d) y[d] += vrow[d] * vs;
    round_y();
    sum = sum * ms + vs;
  }
  const float inv = sum == 0.0f ? 0.0f : 1.0f / sum;
  for (int d = 0; d < hd; ++d) out[d] = y[d] * inv;
}

void decode_group(const ops_detail::OpsTable& t, const float* q, const KvCacheView& c, int group,
                  int g, int64_t pos0, float scale, float* out, float* scratch) {
  // One query row is always below kLlamaTiledRows: q goes through f16.
  const int hd = c.head_dim;
  const size_t nq = static_cast<size_t>(group) * hd;
  float* stage = scratch;
  float* qs = stage + round_up((nq + 1) / 2);
  float* s = qs + round_up(nq);
  const int64_t n_kv = pos0 + 1;

  stage_q(t, q + static_cast<size_t>(g) * nq, qs, nq, stage, /*round_f16=*/true);
  t.attn_scores(qs, group, c.k + c.offset(g, 0), n_kv, hd, scale, s, n_kv);
  float* o = out + static_cast<size_t>(g) * nq;
  if (n_kv <= kLlamaOneChunkCells) {
    for (int r = 0; r < group; ++r) one_chunk_row(t, s + r * n_kv, c, g, n_kv, o + r * hd);
    return;
  }
  std::fill(o, o + nq, 0.0f);
  float inv[64];
  for (int r = 0; r < group; ++r) {
    float* sr = s + r * n_kv;
    inv[r] = 1.0f / t.exp_sub_sum(sr, n_kv, t.max(sr, n_kv));
  }
  t.attn_accum(s, group, n_kv, c.v + c.offset(g, 0), n_kv, hd, o);
  for (int r = 0; r < group; ++r) {
    for (int d = 0; d < hd; ++d) o[r * hd + d] *= inv[r];
  }
}

void prefill_tile(const ops_detail::OpsTable& t, const float* q, const KvCacheView& c, int n_head,
                  int group, int g, int64_t pos0, int t0, int nt, float scale, bool round_q,
                  float* out, float* scratch) {
  const PrefillLayout lay = prefill_layout(c, group);
  const int hd = c.head_dim;
  const size_t ghd = static_cast<size_t>(group) * hd;
  const int rows = nt * group;
  float* stage = scratch + lay.q;
  float* qp = stage + round_up((lay.rows * lay.hd + 1) / 2);
  float* kb = scratch + lay.k;
  float* vb = scratch + lay.v;
  float* sp = scratch + lay.s;
  float* op = scratch + lay.o;
  float* mx = scratch + lay.m;
  float* sum = scratch + lay.l;

  // Row r = token tt * group + head hh; one token's heads of this group are contiguous in q.
  for (int tt = 0; tt < nt; ++tt) {
    const float* src =
        q + (static_cast<size_t>(t0 + tt) * n_head + static_cast<size_t>(g) * group) * hd;
    stage_q(t, src, qp + tt * ghd, ghd, stage, round_q);
  }
  std::fill(op, op + static_cast<size_t>(rows) * hd, 0.0f);
  std::fill(mx, mx + rows, -std::numeric_limits<float>::infinity());
  std::fill(sum, sum + rows, 0.0f);

  const int64_t first_pos = pos0 + t0;    // position of the tile's first token
  const int64_t kv_end = first_pos + nt;  // the last token sees positions < kv_end
  for (int64_t b0 = 0; b0 < kv_end; b0 += kPrefillBlock) {
    const int nb = static_cast<int>(std::min<int64_t>(kPrefillBlock, kv_end - b0));
    const int tt0 =
        static_cast<int>(std::max<int64_t>(0, b0 - first_pos));  // earlier rows see none
    const int r0 = tt0 * group;
    const int m_rows = rows - r0;
    t.f16_to_f32(c.k + c.offset(g, b0), kb, static_cast<int64_t>(nb) * hd);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m_rows, nb, hd, scale,
                qp + static_cast<size_t>(r0) * hd, hd, kb, hd, 0.0f,
                sp + static_cast<size_t>(r0) * kPrefillBlock, kPrefillBlock);
    for (int r = r0; r < rows; ++r) {
      const int tt = r / group;
      const int valid = static_cast<int>(std::min<int64_t>(nb, first_pos + tt + 1 - b0));
      float* sr = sp + static_cast<size_t>(r) * kPrefillBlock;
      const float m_new = std::max(mx[r], t.max(sr, valid));
      const float corr = std::exp(mx[r] - m_new);  // 0 on the first block (mx = -inf)
      const float block_sum = t.exp_sub_sum(sr, valid, m_new);
      std::fill(sr + valid, sr + nb, 0.0f);
      sum[r] = sum[r] * corr + block_sum;
      mx[r] = m_new;
      if (corr != 1.0f) {
        float* orow = op + static_cast<size_t>(r) * hd;
        for (int d = 0; d < hd; ++d) orow[d] *= corr;
      }
    }
    t.f16_to_f32(c.v + c.offset(g, b0), vb, static_cast<int64_t>(nb) * hd);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m_rows, hd, nb, 1.0f,
                sp + static_cast<size_t>(r0) * kPrefillBlock, kPrefillBlock, vb, hd, 1.0f,
                op + static_cast<size_t>(r0) * hd, hd);
  }
  for (int tt = 0; tt < nt; ++tt) {
    float* dst =
        out + (static_cast<size_t>(t0 + tt) * n_head + static_cast<size_t>(g) * group) * hd;
    for (int hh = 0; hh < group; ++hh) {
      const int r = tt * group + hh;
      const float inv = 1.0f / sum[r];
      const float* orow = op + static_cast<size_t>(r) * hd;
      for (int d = 0; d < hd; ++d) dst[hh * hd + d] = orow[d] * inv;
    }
  }
}

// Single-threaded OpenBLAS for the lifetime of the guard.
class BlasSingleThread {
 public:
  BlasSingleThread() {
    if (openblas_set_num_threads && openblas_get_num_threads) {
      saved_ = openblas_get_num_threads();
      if (saved_ != 1) openblas_set_num_threads(1);
    }
  }
  ~BlasSingleThread() {
    if (saved_ > 1) openblas_set_num_threads(saved_);
  }
  BlasSingleThread(const BlasSingleThread&) = delete;
  BlasSingleThread& operator=(const BlasSingleThread&) = delete;

 private:
  int saved_ = 0;
};

}  // namespace

size_t attention_scratch_floats(const KvCacheView& cache, int n_head, int n_threads) {
  SMOL_CHECK(cache.n_head_kv > 0 && n_head % cache.n_head_kv == 0, "attention: bad head counts");
  return per_thread_floats(cache, n_head / cache.n_head_kv) *
         static_cast<size_t>(std::max(1, n_threads));
}

void attention(const float* q, const KvCacheView& cache, int n_head, int64_t pos0, int n_tokens,
               float scale, float* out, float* scratch, size_t scratch_floats) {
  SMOL_CHECK(cache.k && cache.v && cache.head_dim > 0 && cache.n_head_kv > 0,
             "attention: empty cache view");
  SMOL_CHECK(n_head > 0 && n_head % cache.n_head_kv == 0, "attention: n_head % n_head_kv != 0");
  const int group = n_head / cache.n_head_kv;
  SMOL_CHECK(group <= 64, "attention: more than 64 query heads per KV head");
  SMOL_CHECK(cache.head_dim <= kMaxHeadDim, "attention: head_dim above 256");
  SMOL_CHECK(pos0 >= 0 && n_tokens >= 1 && pos0 + n_tokens <= cache.n_ctx,
             "attention: positions outside the cache");
  const size_t per_thread = per_thread_floats(cache, group);
  SMOL_CHECK(scratch != nullptr && scratch_floats >= per_thread, "attention: scratch too small");
  const int n_threads = static_cast<int>(
      std::min<size_t>(static_cast<size_t>(num_threads()), scratch_floats / per_thread));
  const auto& t = ops_detail::active_table();

  if (n_tokens == 1) {
#pragma omp parallel for num_threads(n_threads) schedule(static)
    for (int g = 0; g < cache.n_head_kv; ++g) {
      float* mine = scratch + per_thread * static_cast<size_t>(omp_get_thread_num());
      decode_group(t, q, cache, group, g, pos0, scale, out, mine);
    }
    return;
  }

  const bool round_q = n_tokens < kLlamaTiledRows;
  if (round_q && pos0 + n_tokens <= kLlamaOneChunkCells) {
    // llama.cpp's one-chunk kernel: every row as a decode step at its own position.
    const size_t row = static_cast<size_t>(n_head) * cache.head_dim;
    const int n_items = n_tokens * cache.n_head_kv;
#pragma omp parallel for num_threads(n_threads) schedule(dynamic, 1)
    for (int item = 0; item < n_items; ++item) {
      const int tok = item / cache.n_head_kv;
      const int g = item % cache.n_head_kv;
      float* mine = scratch + per_thread * static_cast<size_t>(omp_get_thread_num());
      decode_group(t, q + tok * row, cache, group, g, pos0 + tok, scale, out + tok * row, mine);
    }
    return;
  }

  const BlasSingleThread blas_single_thread;
  const int n_tiles = (n_tokens + kPrefillTokens - 1) / kPrefillTokens;
  const int n_items = n_tiles * cache.n_head_kv;
  // Later tiles see more of the cache: start with them, hand out items dynamically.
#pragma omp parallel for num_threads(n_threads) schedule(dynamic, 1)
  for (int item = 0; item < n_items; ++item) {
    const int tile = n_tiles - 1 - item / cache.n_head_kv;
    const int g = item % cache.n_head_kv;
    const int t0 = tile * kPrefillTokens;
    const int nt = std::min(kPrefillTokens, n_tokens - t0);
    float* mine = scratch + per_thread * static_cast<size_t>(omp_get_thread_num());
    prefill_tile(t, q, cache, n_head, group, g, pos0, t0, nt, scale, round_q, out, mine);
  }
}

}  // namespace smol::kernels
