// synth_weights.h — deterministic random tensor contents for synthetic SmolLM3 models.
//
// Goals: valid Q4_K / Q6_K / F32 data made by quantizing seeded random floats with smol_kernels'
// quantizers; the same (seed, tensor index) gives the same bytes whatever the thread count,
// because every row has its own generator. Scales keep activations finite through every layer
// and make logits varied (see docs/synth.md for the reasoning behind each number).
// Non-goals: statistical realism beyond "trained-looking enough to exercise the engine".
#pragma once

#include <cstdint>
#include <span>

#include "synth_model.h"

namespace smol::synth {

// Standard deviation of a weight matrix's entries (mean 0), or of the norm weights around 1.
float weight_std(const Preset& preset, const TensorSpec& spec);

// Fills `out` (spec.n_bytes() bytes) with tensor `tensor_index` of the plan for `seed`. Runs an
// OpenMP team over rows; the bytes do not depend on the number of threads.
void fill_tensor(const Preset& preset, const TensorSpec& spec, uint64_t seed, uint32_t tensor_index,
                 std::span<uint8_t> out);

}  // namespace smol::synth
