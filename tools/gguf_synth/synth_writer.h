// synth_writer.h — writes a synthetic SmolLM3 GGUF laid out like the real SmolLM3-3B Q4_K_M file.
//
// Goals: same metadata keys, key order and value types as the real file (facts §1.1, §3.1), the
// full Llama-3/SmolLM3 vocabulary, and the tensor plan of synth_model.h filled by synth_weights.h,
// streamed tensor by tensor so the 1.9 GB `3b` preset never sits in memory.
// Non-goals: reproducing the real file's descriptive general.* keys (they vary by converter).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "smol/gguf.h"
#include "smol/result.h"
#include "synth_model.h"
#include "synth_vocab.h"

namespace smol::synth {

struct SynthOptions {
  std::string preset;              // tiny | small | 3b
  uint64_t seed = 0;               // same seed, same bytes
  std::string out;                 // output path
  std::string tokenizer_json;      // empty: find_default_tokenizer_json()
  std::string chat_template_path;  // empty: default_chat_template()
};

struct SynthStats {
  double vocab_seconds = 0;    // reading and converting tokenizer.json
  double weights_seconds = 0;  // generating + quantizing tensor data (inside the writer)
  double total_seconds = 0;
  uint64_t file_bytes = 0;
  PlanSummary plan;
};

// A short ChatML template of our own, used when no template file is given.
std::string_view default_chat_template();

// Sets every metadata key, in the real file's order.
void set_metadata(gguf::Writer& writer, const Preset& preset, const Vocab& vocab,
                  std::string_view chat_template, uint64_t seed);

// Does the whole job; errors name the file or option at fault.
Result<SynthStats> write_synth_model(const SynthOptions& options);

// The plan as one JSON object: preset hyper-parameters, tensors [{name,type,shape,bytes}],
// type_counts, n_tensors, n_params, data_bytes, nope_layers and, when `vocab` is given,
// n_tokens / n_merges.
std::string plan_json(const Preset& preset, const Vocab* vocab);

}  // namespace smol::synth
