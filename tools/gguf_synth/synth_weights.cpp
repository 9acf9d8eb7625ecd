#include "synth_weights.h"

#include <cmath>
#include <cstring>
#include <vector>

#include "smol/kernels.h"

namespace smol::synth {
namespace {

// splitmix64 (Steele, Lea, Flood 2014): a fast, well-mixed 64-bit generator; its finaliser also
// derives independent per-row seeds.
uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    state_ += 0x9e3779b97f4a7c15ull;
    return mix64(state_);
  }
  // Approximately N(0, 1): Irwin–Hall sum of four 16-bit uniforms, one 64-bit draw per value.
  // Bounded at ±3.46, which is all quantized weights need and far cheaper than Box–Muller.
  float normal() {
    const uint64_t r = next();
    const uint32_t sum = static_cast<uint32_t>(r & 0xffff) +
                         static_cast<uint32_t>((r >> 16) & 0xffff) +
                         static_cast<uint32_t>((r >> 32) & 0xffff) + static_cast<uint32_t>(r >> 48);
    // Mean 4·32767.5; standard deviation sqrt(4·(65536²−1)/12).
    constexpr float kMean = 131070.0f;
    constexpr float kInvStd = 1.0f / 37837.23f;
    return (static_cast<float>(sum) - kMean) * kInvStd;
  }

 private:
  uint64_t state_;
};

uint64_t row_seed(uint64_t seed, uint32_t tensor_index, uint64_t row) {
  return mix64(mix64(mix64(seed) ^ (0x5851f42d4c957f2dull * (tensor_index + 1))) ^ row);
}

// Logit standard deviation aimed for: logits = token_embd · normed(x) with normed(x) of unit
// RMS, so std(logit) = std(embedding)·sqrt(n_embd). 4 keeps top-2 gaps well above the ~1e-2
// by which an f32 engine and llama.cpp (Q8_K activations, f16 KV) differ, yet far from one-hot.
constexpr float kLogitStd = 4.0f;
// Gain on q and k: a score q·k/sqrt(head_dim) then has std kQkGain², so attention is peaked
// enough that RoPE (position) mistakes change the output instead of averaging away.
constexpr float kQkGain = 1.5f;
// Gain on attn_output and ffn_down, which add into the residual stream. The stream also holds
// the input embedding (RMS kLogitStd/sqrt(n_embd)); with tied embeddings that copy adds about
// kLogitStd²/RMS(final x) to the logit of the input token itself, so a weak stream makes a
// random model repeat its last token forever. Each block then adds RMS ~kResidualGain, the
// stream grows like kResidualGain·sqrt(2·layers) and stays finite (~25 after 36 layers).
constexpr float kResidualGain = 3.0f;
// Norm weights are 1 + N(0, kNormSpread²): near 1 but not all equal, so a dropped or
// misapplied norm weight shows.
constexpr float kNormSpread = 0.1f;

}  // namespace

float weight_std(const Preset& p, const TensorSpec& spec) {
  const float in = static_cast<float>(spec.ne[0]);
  switch (spec.role) {
    case TensorRole::kTokenEmbd:
      return kLogitStd / std::sqrt(static_cast<float>(p.n_embd));
    case TensorRole::kNorm:
      return kNormSpread;
    case TensorRole::kAttnQ:
    case TensorRole::kAttnK:
      return kQkGain / std::sqrt(in);
    // Fan-in scaling: unit-variance outputs for unit-RMS inputs.
    case TensorRole::kAttnV:
    case TensorRole::kFfnGate:
    case TensorRole::kFfnUp:
      return 1.0f / std::sqrt(in);
    // The two projections that add into the residual stream get kResidualGain.
    case TensorRole::kAttnOutput:
    case TensorRole::kFfnDown:
      return kResidualGain / std::sqrt(in);
  }
  return 0.0f;
}

void fill_tensor(const Preset& preset, const TensorSpec& spec, uint64_t seed, uint32_t tensor_index,
                 std::span<uint8_t> out) {
  SMOL_CHECK(out.size() == spec.n_bytes(), "output span does not match the tensor size");
  const int64_t ne0 = spec.ne[0];
  const int64_t n_rows = static_cast<int64_t>(spec.n_rows());
  const uint64_t stride = row_bytes(spec.type, static_cast<uint64_t>(ne0));
  const float std_dev = weight_std(preset, spec);
  const float mean = spec.role == TensorRole::kNorm ? 1.0f : 0.0f;

#pragma omp parallel
  {
    std::vector<float> row(static_cast<size_t>(ne0));
#pragma omp for schedule(static)
    for (int64_t r = 0; r < n_rows; ++r) {
      Rng rng(row_seed(seed, tensor_index, static_cast<uint64_t>(r)));
      for (float& v : row) v = mean + std_dev * rng.normal();
      uint8_t* dst = out.data() + static_cast<uint64_t>(r) * stride;
      switch (spec.type) {
        case TensorType::Q4_K:
          kernels::quantize_row_q4_K(row.data(), dst, ne0);
          break;
        case TensorType::Q6_K:
          kernels::quantize_row_q6_K(row.data(), dst, ne0);
          break;
        case TensorType::F32:
          std::memcpy(dst, row.data(), stride);
          break;
        default:
          SMOL_CHECK(false, "gguf-synth writes only F32, Q4_K and Q6_K");
      }
    }
  }
}

}  // namespace smol::synth
