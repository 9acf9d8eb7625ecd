#include "smol/model_config.h"

#include <cmath>
#include <string_view>

namespace smol::engine {

namespace {

// Every GGUF key the config reads. Keys after kArchitecture are suffixes of "<arch>.".
constexpr std::string_view kArchitecture = "general.architecture";
constexpr std::string_view kBlockCount = "block_count";
constexpr std::string_view kEmbeddingLength = "embedding_length";
constexpr std::string_view kFeedForwardLength = "feed_forward_length";
constexpr std::string_view kHeadCount = "attention.head_count";
constexpr std::string_view kHeadCountKv = "attention.head_count_kv";  // optional: n_head
constexpr std::string_view kKeyLength = "attention.key_length";       // optional
constexpr std::string_view kValueLength = "attention.value_length";   // optional, == key
constexpr std::string_view kRmsEps = "attention.layer_norm_rms_epsilon";
constexpr std::string_view kContextLength = "context_length";
constexpr std::string_view kVocabSize = "vocab_size";                     // optional
constexpr std::string_view kRopeFreqBase = "rope.freq_base";              // optional: 10000
constexpr std::string_view kRopeDimensionCount = "rope.dimension_count";  // optional: head_dim
constexpr std::string_view kRopeScalingType = "rope.scaling.type";        // refused unless none
constexpr std::string_view kTokens = "tokenizer.ggml.tokens";             // n_vocab fallback

// llama.cpp hard-codes SmolLM3's NoPE period (n_no_rope_layer_step); no key carries it.
constexpr int kSmolLm3NoRopeStep = 4;
constexpr float kDefaultRopeFreqBase = 10000.0f;

std::string key(const std::string& arch, std::string_view suffix) {
  return arch + "." + std::string(suffix);
}

Result<int> positive_int(const gguf::File& file, const std::string& name) {
  auto v = file.get_int(name);
  if (!v.ok()) return Error{v.error()};
  if (*v <= 0 || *v > (1 << 30)) {
    return Error{"model config: " + name + " = " + std::to_string(*v) + " is out of range"};
  }
  return static_cast<int>(*v);
}

Result<int> optional_positive_int(const gguf::File& file, const std::string& name, int fallback) {
  if (!file.has(name)) return fallback;
  return positive_int(file, name);
}

}  // namespace

float ModelConfig::attn_scale() const { return 1.0f / std::sqrt(static_cast<float>(head_dim)); }

int ModelConfig::n_rope_layers() const {
  int n = 0;
  for (uint8_t u : uses_rope) n += u;
  return n;
}

Result<ModelConfig> ModelConfig::from_gguf(const gguf::File& file) {
  ModelConfig c;
  auto arch = file.get_string(kArchitecture);
  if (!arch.ok()) return Error{"model config: " + arch.error()};
  c.architecture = std::string(*arch);
  if (c.architecture != "smollm3" && c.architecture != "llama") {
    return Error{"model config: unsupported architecture '" + c.architecture +
                 "' (supported: smollm3, llama)"};
  }
  const std::string& a = c.architecture;

  auto assign = [](int& field, Result<int> r) -> Status {
    if (!r.ok()) return Error{r.error()};
    field = *r;
    return {};
  };
  SMOL_TRY(assign(c.n_layer, positive_int(file, key(a, kBlockCount))));
  SMOL_TRY(assign(c.n_embd, positive_int(file, key(a, kEmbeddingLength))));
  SMOL_TRY(assign(c.n_ff, positive_int(file, key(a, kFeedForwardLength))));
  SMOL_TRY(assign(c.n_head, positive_int(file, key(a, kHeadCount))));
  SMOL_TRY(assign(c.n_head_kv, optional_positive_int(file, key(a, kHeadCountKv), c.n_head)));
  SMOL_TRY(
      assign(c.head_dim, optional_positive_int(file, key(a, kKeyLength), c.n_embd / c.n_head)));
  SMOL_TRY(assign(c.n_ctx_train, positive_int(file, key(a, kContextLength))));

  int value_length = 0;
  SMOL_TRY(assign(value_length, optional_positive_int(file, key(a, kValueLength), c.head_dim)));
  if (value_length != c.head_dim) {
    return Error{"model config: " + key(a, kValueLength) + " (" + std::to_string(value_length) +
                 ") != key_length (" + std::to_string(c.head_dim) + ") is not supported"};
  }

  if (file.has(key(a, kVocabSize))) {
    SMOL_TRY(assign(c.n_vocab, positive_int(file, key(a, kVocabSize))));
  } else if (auto tokens = file.get_string_array(kTokens); tokens.ok()) {
    c.n_vocab = static_cast<int>(tokens->size());
  } else if (const auto* embd = file.find_tensor("token_embd.weight"); embd) {
    c.n_vocab = static_cast<int>(embd->ne[1]);
  } else {
    return Error{"model config: no " + key(a, kVocabSize) + ", " + std::string(kTokens) +
                 " or token_embd.weight to size the vocabulary"};
  }

  c.rope_freq_base = kDefaultRopeFreqBase;
  if (file.has(key(a, kRopeFreqBase))) {
    auto base = file.get_float(key(a, kRopeFreqBase));
    if (!base.ok()) return Error{"model config: " + base.error()};
    c.rope_freq_base = static_cast<float>(*base);
  }
  auto eps = file.get_float(key(a, kRmsEps));
  if (!eps.ok()) return Error{"model config: " + eps.error()};
  c.rms_eps = static_cast<float>(*eps);

  if (file.has(key(a, kRopeScalingType))) {
    auto type = file.get_string(key(a, kRopeScalingType));
    if (!type.ok() || *type != "none") {
      return Error{"model config: rope scaling (" + key(a, kRopeScalingType) +
                   ") is not supported"};
    }
  }
  if (file.find_tensor("rope_freqs.weight")) {
    return Error{"model config: rope_freqs.weight (llama3 rope scaling) is not supported"};
  }

  int n_rot = 0;
  SMOL_TRY(assign(n_rot, optional_positive_int(file, key(a, kRopeDimensionCount), c.head_dim)));

  // Validation: the forward pass relies on every one of these.
  auto fail = [](const std::string& what) { return Error{"model config: " + what}; };
  if (c.n_head % c.n_head_kv != 0) {
    return fail("head_count " + std::to_string(c.n_head) + " is not a multiple of head_count_kv " +
                std::to_string(c.n_head_kv));
  }
  if (c.head_dim % 2 != 0) return fail("head dim " + std::to_string(c.head_dim) + " is odd");
  // The attention kernels keep one head's row on the stack (SmolLM3: 128).
  if (c.head_dim > 256) {
    return fail("head dim " + std::to_string(c.head_dim) + " is above the supported 256");
  }
  if (n_rot != c.head_dim) {
    return fail("partial rotary (" + key(a, kRopeDimensionCount) + " = " + std::to_string(n_rot) +
                ", head dim " + std::to_string(c.head_dim) + ") is not supported");
  }
  if (!(c.rms_eps > 0.0f) || !std::isfinite(c.rms_eps)) {
    return fail(key(a, kRmsEps) + " must be a positive number");
  }
  if (!(c.rope_freq_base > 1.0f) || !std::isfinite(c.rope_freq_base)) {
    return fail(key(a, kRopeFreqBase) + " must be a finite number > 1");
  }

  c.uses_rope.assign(static_cast<size_t>(c.n_layer), 1);
  if (c.architecture == "smollm3") {
    for (int il = 0; il < c.n_layer; ++il) {
      c.uses_rope[static_cast<size_t>(il)] = (il + 1) % kSmolLm3NoRopeStep != 0;
    }
  }
  return c;
}

}  // namespace smol::engine
