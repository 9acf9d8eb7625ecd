#include "summary.h"

#include <unordered_map>

namespace smol::inspect {
namespace {

std::optional<int64_t> int_key(const gguf::File& f, const std::string& key) {
  Result<int64_t> v = f.get_int(key);
  return v.ok() ? std::optional<int64_t>(*v) : std::nullopt;
}

std::optional<double> float_key(const gguf::File& f, const std::string& key) {
  Result<double> v = f.get_float(key);
  return v.ok() ? std::optional<double>(*v) : std::nullopt;
}

// SmolLM3 applies RoPE on layer il only when (il + 1) % 4 != 0; llama.cpp hard-codes the 4.
constexpr int64_t kNoPeStep = 4;

const char* const kSpecialTexts[] = {"<|im_start|>", "<|im_end|>",  "<think>",
                                     "</think>",     "<tool_call>", "</tool_call>"};

}  // namespace

Totals compute_totals(const gguf::File& file) {
  Totals t;
  for (const gguf::TensorInfo& info : file.tensors()) {
    TypeTotal& row = t.by_type[static_cast<uint32_t>(info.type)];
    ++row.n_tensors;
    row.n_params += info.n_elements;
    row.n_bytes += info.n_bytes;
    t.n_params += info.n_elements;
    t.n_bytes += info.n_bytes;
  }
  return t;
}

ArchSummary compute_arch(const gguf::File& file) {
  ArchSummary s;
  Result<std::string_view> arch = file.get_string("general.architecture");
  if (arch.ok()) s.architecture = std::string(*arch);
  const std::string p = s.architecture + ".";
  s.n_layer = int_key(file, p + "block_count");
  s.n_embd = int_key(file, p + "embedding_length");
  s.n_ff = int_key(file, p + "feed_forward_length");
  s.n_head = int_key(file, p + "attention.head_count");
  s.n_head_kv = int_key(file, p + "attention.head_count_kv");
  s.n_ctx = int_key(file, p + "context_length");
  s.n_vocab_key = int_key(file, p + "vocab_size");
  s.rope_freq_base = float_key(file, p + "rope.freq_base");
  s.rms_eps = float_key(file, p + "attention.layer_norm_rms_epsilon");
  s.head_dim = int_key(file, p + "attention.key_length");
  if (!s.head_dim && s.n_embd && s.n_head && *s.n_head > 0) s.head_dim = *s.n_embd / *s.n_head;
  if (s.architecture == "smollm3" && s.n_layer) {
    for (int64_t il = 0; il < *s.n_layer && il < (int64_t{1} << 20); ++il) {
      if ((il + 1) % kNoPeStep == 0) s.nope_layers.push_back(il);
    }
  }
  s.tied_embeddings = file.find_tensor("token_embd.weight") != nullptr &&
                      file.find_tensor("output.weight") == nullptr;
  s.bos_id = int_key(file, "tokenizer.ggml.bos_token_id");
  s.eos_id = int_key(file, "tokenizer.ggml.eos_token_id");
  s.pad_id = int_key(file, "tokenizer.ggml.padding_token_id");

  Result<std::span<const std::string_view>> tokens = file.get_string_array("tokenizer.ggml.tokens");
  for (const char* text : kSpecialTexts) s.special_tokens.push_back({text, std::nullopt});
  if (tokens.ok()) {
    s.n_vocab = static_cast<int64_t>(tokens->size());
    std::unordered_map<std::string_view, size_t> wanted;
    for (size_t i = 0; i < s.special_tokens.size(); ++i) wanted[s.special_tokens[i].text] = i;
    for (size_t id = 0; id < tokens->size(); ++id) {
      auto it = wanted.find((*tokens)[id]);
      if (it != wanted.end() && !s.special_tokens[it->second].id) {
        s.special_tokens[it->second].id = static_cast<int64_t>(id);
      }
    }
  }
  return s;
}

}  // namespace smol::inspect
