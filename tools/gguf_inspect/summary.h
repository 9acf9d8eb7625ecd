// What gguf-inspect derives from a File besides the raw listing: per-type totals and, for
// smollm3, the architecture summary the engine will rely on.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "smol/gguf.h"

namespace smol::inspect {

struct TypeTotal {
  uint64_t n_tensors = 0;
  uint64_t n_params = 0;
  uint64_t n_bytes = 0;
};

struct Totals {
  std::map<uint32_t, TypeTotal> by_type;  // keyed by ggml type id, so output order is stable
  uint64_t n_params = 0;
  uint64_t n_bytes = 0;
};

Totals compute_totals(const gguf::File& file);

struct SpecialToken {
  std::string text;
  std::optional<int64_t> id;  // nullopt when the text is not in tokenizer.ggml.tokens
};

// Hyper-parameters read from `<arch>.*` keys; a field is nullopt when its key is missing or has
// an unexpected type.
struct ArchSummary {
  std::string architecture;  // general.architecture, "" when absent
  std::optional<int64_t> n_layer, n_embd, n_ff, n_head, n_head_kv, head_dim, n_ctx;
  std::optional<int64_t> n_vocab;      // length of tokenizer.ggml.tokens
  std::optional<int64_t> n_vocab_key;  // <arch>.vocab_size, when present
  std::optional<double> rope_freq_base, rms_eps;
  std::vector<int64_t> nope_layers;  // smollm3: il with (il + 1) % 4 == 0
  bool tied_embeddings = false;      // token_embd.weight present, output.weight absent
  std::optional<int64_t> bos_id, eos_id, pad_id;
  std::vector<SpecialToken> special_tokens;
};

ArchSummary compute_arch(const gguf::File& file);

// Printers; both return the process exit status.
int print_text(const gguf::File& file, const std::string& path);
int print_json(const gguf::File& file);

}  // namespace smol::inspect
