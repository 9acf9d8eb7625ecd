// smol/kernels.h — quantized block formats and the matrix kernels of the engine.
//
// Goals: decode the GGUF block formats SmolLM3 Q4_K_M uses (Q4_K, Q6_K, Q8_0, F16, BF16, F32),
// quantize f32 rows into them (for the synthetic-model tool and for activations), and compute
// y = W·x for one token (matvec, decode) or many (matmul, prefill) as fast as the memory system
// allows. Activations are quantized to Q8_K (Q8_0 for Q8_0 weights) exactly as llama.cpp does,
// so our logits track llama.cpp's.
//
// Non-goals: training-quality quantizers (the Q4_K / Q6_K quantizers are decent, not ggml's
// imatrix search), other ggml types, GPU back ends.
//
// Tiers: every kernel has a scalar reference (the executable spec) and AVX2 and AVX-512 tiers.
// One table of function pointers is chosen once from CPUID; SMOL_ISA=scalar|avx2|avx512 in the
// environment (read once, at first use) or set_isa() (tests, benchmarks) force a tier.
//
// Pointers: quantized data is passed as `const void*` and may have ANY alignment (GGUF packs
// 210-byte Q6_K blocks back to back); the kernels read it bytewise. F32 / F16 data and every
// float* need their natural alignment (4 / 2 bytes; GGUF aligns tensors to 32). The block structs
// below document the layouts and are what writers (gguf-synth) fill in.
//
// Threading: matvec/matmul run an OpenMP team of num_threads() threads. They are meant to be
// called from one thread at a time (the engine worker); calls from different threads are safe
// (scratch is per calling thread) but each spawns its own team. No heap allocation happens
// after a call's scratch has grown to its shape (grow-only).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "smol/result.h"

namespace smol::kernels {

// ggml's numeric type ids, as stored in GGUF tensor infos.
enum class QuantType : uint32_t {
  kF32 = 0,
  kF16 = 1,
  kQ8_0 = 8,
  kQ4_K = 12,
  kQ6_K = 14,
  kQ8_K = 15,
  kBF16 = 30,
};

inline constexpr int64_t kQK = 256;    // elements per K-quant super-block
inline constexpr int64_t kQK8_0 = 32;  // elements per Q8_0 block

// Q4_K: 256 elements in 144 bytes = 4.5 bits/weight. 8 sub-blocks of 32 elements, each with a
// 6-bit scale sc and 6-bit min m packed into `scales` (see docs/kernels.md); element value is
// fp16(d)·sc·q − fp16(dmin)·m with q in 0..15. qs[32c+t] holds element 64c+t in its low nibble and
// element 64c+32+t in its high nibble (c = 0..3, t = 0..31).
struct BlockQ4K {
  uint16_t d;          // fp16 super-block scale for the sub-block scales
  uint16_t dmin;       // fp16 super-block scale for the sub-block mins
  uint8_t scales[12];  // 8 × (6-bit scale, 6-bit min)
  uint8_t qs[128];     // 256 × 4-bit quants
};
static_assert(sizeof(BlockQ4K) == 144, "Q4_K block is 144 bytes");

// Q6_K: 256 elements in 210 bytes = 6.5625 bits/weight. 16 groups of 16 elements share a signed
// int8 scale; value = fp16(d)·scales[g]·(q6 − 32), q6 in 0..63 built from a nibble of ql and two
// bits of qh (interleave in docs/kernels.md). Note d comes LAST.
struct BlockQ6K {
  uint8_t ql[128];    // low 4 bits
  uint8_t qh[64];     // high 2 bits
  int8_t scales[16];  // per-16 signed scales
  uint16_t d;         // fp16 super-block scale
};
static_assert(sizeof(BlockQ6K) == 210, "Q6_K block is 210 bytes");

// Q8_0: 32 elements in 34 bytes = 8.5 bits/weight; value = fp16(d)·q.
struct BlockQ80 {
  uint16_t d;     // fp16 scale
  int8_t qs[32];  // quants
};
static_assert(sizeof(BlockQ80) == 34, "Q8_0 block is 34 bytes");

// Q8_K (activations only): 256 elements in 292 bytes = 9.125 bits/value; value = d·q. d is f32
// and has the OPPOSITE sign to the largest-magnitude input; bsums[j] = Σ q[16j..16j+15].
struct BlockQ8K {
  float d;            // f32 scale (sign opposite to the extreme input; 0 for an all-zero block)
  int8_t qs[256];     // quants in −127..127
  int16_t bsums[16];  // per-16 sums of qs (fold Q4_K mins / Q6_K offset in without touching qs)
};
static_assert(sizeof(BlockQ8K) == 292, "Q8_K block is 292 bytes");

// ---- Type facts ------------------------------------------------------------------------------

// The QuantType for a raw GGUF type id, or nullopt if this library does not handle it.
std::optional<QuantType> quant_type_from_id(uint32_t id);
// "Q4_K", "F32", ... as ggml spells them.
const char* quant_type_name(QuantType type);
// Elements per block (1 for F32/F16/BF16) and bytes per block.
int64_t block_elems(QuantType type);
int64_t block_bytes(QuantType type);
// Bytes of a row of n elements; n must be a multiple of block_elems(type) (SMOL_CHECK).
int64_t row_bytes(QuantType type, int64_t n);
// Whether a row of n elements is a whole number of blocks (check untrusted shapes with this).
bool row_length_ok(QuantType type, int64_t n);

// ---- Conversion (scalar reference; not hot) ------------------------------------------------

// dst[0..n) = the values of the n elements at src. Every type above. n % block_elems == 0.
void dequantize_row(QuantType type, const void* src, float* dst, int64_t n);

// Reference quantizers, f32 -> blocks; n % 256 (Q8_0: 32) == 0. `y` may have any alignment.
void quantize_row_q4_K(const float* x, void* y, int64_t n);
void quantize_row_q6_K(const float* x, void* y, int64_t n);
void quantize_row_q8_0(const float* x, void* y, int64_t n);
// Q8_K follows llama.cpp bit for bit (and is the activation quantizer of matvec/matmul). This
// entry point goes through the active tier; all tiers give identical bytes.
void quantize_row_q8_K(const float* x, void* y, int64_t n);
// Any type: F32 (copy), F16, BF16 (round to nearest even) and the four quantizers above.
void quantize_row(QuantType type, const float* x, void* dst, int64_t n);

// ---- Dot products (active tier) ------------------------------------------------------------

// Σ w_i·a_i over n elements. w / a point at n/256 (Q8_0: n/32) blocks.
float vec_dot_q4_K_q8_K(int64_t n, const void* w, const void* a);
float vec_dot_q6_K_q8_K(int64_t n, const void* w, const void* a);
float vec_dot_q8_0_q8_0(int64_t n, const void* w, const void* a);
// w is n fp16 values (raw bits), x is n floats.
float vec_dot_f16_f32(int64_t n, const uint16_t* w, const float* x);
float vec_dot_f32(int64_t n, const float* w, const float* x);

// ---- ISA tiers ------------------------------------------------------------------------------

enum class Isa { kScalar, kAvx2, kAvx512 };

const char* isa_name(Isa isa);                        // "scalar", "avx2", "avx512"
std::optional<Isa> parse_isa(std::string_view name);  // inverse of isa_name
bool isa_supported(Isa isa);                          // this CPU can run the tier
Isa best_isa();                                       // the best supported tier
Isa active_isa();  // tier in use: SMOL_ISA if set and supported, else best_isa()
// Force a tier (tests, benchmarks). Fails, changing nothing, if the CPU lacks it. Not to be
// called while another thread is inside a kernel.
Status set_isa(Isa isa);

// ---- Threads ---------------------------------------------------------------------------------

// Threads used by every parallel kernel: matvec/matmul, the row-wise ops and attention (default:
// OpenMP's default, i.e. OMP_NUM_THREADS or the cores). Each parallel region names this count
// itself, so it holds whichever thread calls the kernels. 0 goes back to OpenMP's default.
void set_num_threads(int n);
int num_threads();

// ---- Matrix kernels ------------------------------------------------------------------------

// Types matvec/matmul accept as weights: F32, F16, Q8_0, Q4_K, Q6_K.
bool matmul_supports(QuantType type);

// y[r] = Σ_c W[r][c]·x[c] for r < rows. W is row-major: `rows` rows of `cols` elements, each row
// row_bytes(type, cols) bytes of `type` blocks, back to back. x: [cols] f32, y: [rows] f32.
// For quantized W, x is first quantized (Q8_K, or Q8_0 for Q8_0 weights) like llama.cpp.
void matvec(QuantType type, const void* w, int64_t rows, int64_t cols, const float* x, float* y);

// Prefill: y[t][r] = Σ_c W[r][c]·x[t][c] for t < n. x: [n][cols] f32, y: [n][rows] f32.
// Quantizes x once and tiles over tokens so each weight block is decoded once per token tile.
// Same activation quantization and integer sums as matvec, so results agree with matvec's up
// to float summation order.
void matmul(QuantType type, const void* w, int64_t rows, int64_t cols, const float* x, int64_t n,
            float* y);

// One weight matrix of matmul_multi: y is [n][rows].
struct MatmulTarget {
  QuantType type;
  const void* w;
  int64_t rows;
  float* y;
};

// y_j[t] = W_j·x[t] for up to four matrices of `cols` columns that read the same input (a layer's
// Q, K and V; gate and up). x is quantized once per format and one thread team works through
// every matrix's rows, so no thread waits for the other at the end of each matrix. Every y_j
// is bit for bit what matvec (n == 1) or matmul gives for W_j alone.
void matmul_multi(std::span<const MatmulTarget> targets, int64_t cols, const float* x, int64_t n);

}  // namespace smol::kernels
