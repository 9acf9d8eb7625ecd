#include "smol/tokenizer_gguf.h"

#include <algorithm>
#include <array>
#include <string_view>

namespace smol::engine {

namespace {
// Pre-tokenizer names for which llama.cpp uses the Llama-3 regex with ignore_merges off.
constexpr std::array<std::string_view, 2> kSupportedPre = {"smaug-bpe", "dbrx"};
}  // namespace

Result<tokenizer::Vocab> vocab_from_gguf(const gguf::File& file) {
  auto model = file.get_string("tokenizer.ggml.model");
  if (!model.ok()) return Error{model.error()};
  if (*model != "gpt2") {
    return Error{"tokenizer.ggml.model is '" + std::string(*model) +
                 "'; only 'gpt2' (byte-level BPE) is supported"};
  }
  auto pre = file.get_string("tokenizer.ggml.pre");
  if (!pre.ok()) return Error{pre.error()};
  if (std::find(kSupportedPre.begin(), kSupportedPre.end(), *pre) == kSupportedPre.end()) {
    return Error{"tokenizer.ggml.pre is '" + std::string(*pre) +
                 "'; supported: smaug-bpe, dbrx (the Llama-3 split with merges always applied)"};
  }

  tokenizer::Vocab vocab;
  auto tokens = file.get_string_array("tokenizer.ggml.tokens");
  if (!tokens.ok()) return Error{tokens.error()};
  vocab.tokens.reserve(tokens->size());
  for (std::string_view t : *tokens) vocab.tokens.emplace_back(t);

  if (file.has("tokenizer.ggml.token_type")) {
    auto types = file.get_i32_array("tokenizer.ggml.token_type");
    if (!types.ok()) return Error{types.error()};
    vocab.token_types = std::move(*types);
  } else {
    vocab.token_types.assign(vocab.tokens.size(),
                             static_cast<int32_t>(tokenizer::TokenType::kNormal));
  }

  auto merges = file.get_string_array("tokenizer.ggml.merges");
  if (!merges.ok()) return Error{merges.error()};
  vocab.merges.reserve(merges->size());
  for (std::string_view m : *merges) vocab.merges.emplace_back(m);

  for (auto [key, dst] : {std::pair{"tokenizer.ggml.bos_token_id", &vocab.bos_id},
                          std::pair{"tokenizer.ggml.eos_token_id", &vocab.eos_id}}) {
    if (!file.has(key)) continue;
    auto id = file.get_int(key);
    if (!id.ok()) return Error{id.error()};
    if (*id < 0 || *id >= static_cast<int64_t>(vocab.tokens.size())) {
      return Error{std::string(key) + " = " + std::to_string(*id) + " is outside the " +
                   std::to_string(vocab.tokens.size()) + "-token vocabulary"};
    }
    *dst = static_cast<int32_t>(*id);
  }
  if (file.has("tokenizer.ggml.add_bos_token")) {
    auto add = file.get_bool("tokenizer.ggml.add_bos_token");
    if (!add.ok()) return Error{add.error()};
    vocab.add_bos = *add;
  }
  return vocab;
}

Result<tokenizer::Tokenizer> tokenizer_from_gguf(const gguf::File& file) {
  auto vocab = vocab_from_gguf(file);
  if (!vocab.ok()) return Error{vocab.error()};
  return tokenizer::Tokenizer::create(std::move(*vocab));
}

Result<tokenizer::Tokenizer> tokenizer_from_gguf_path(const std::string& path) {
  auto file = gguf::File::open(path);
  if (!file.ok()) return Error{file.error()};  // already names the path
  auto tok = tokenizer_from_gguf(*file);
  if (!tok.ok()) return Error{path + ": " + tok.error()};
  return tok;
}

}  // namespace smol::engine
