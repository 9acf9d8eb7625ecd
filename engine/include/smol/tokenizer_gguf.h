// smol/tokenizer_gguf.h — builds a smol::tokenizer::Tokenizer from a GGUF file's tokenizer.ggml.*
// metadata (the glue between smol_gguf and smol_tokenizer, which know nothing of each other).
//
// Accepted: tokenizer.ggml.model = "gpt2" (byte-level BPE) with tokenizer.ggml.pre = "smaug-bpe"
// or "dbrx" (llama.cpp gives both the Llama-3 split with merges always applied, no BOS).
// Keys read: tokens (string[], required), token_type (i32[], default all NORMAL as in llama.cpp),
// merges (string[], required), bos_token_id / eos_token_id (any integer type, optional),
// add_bos_token (bool, optional, default false).
// Non-goals: SentencePiece ("llama"), WordPiece, other pre-tokenizers (e.g. "llama-bpe", whose
// ignore_merges mode we do not implement): those fail with a message naming the value.
#pragma once

#include <string>

#include "smol/gguf.h"
#include "smol/result.h"
#include "smol/tokenizer.h"

namespace smol::engine {

// The vocabulary arrays of `file`; errors name the key ("tokenizer.ggml.merges: ...").
Result<tokenizer::Vocab> vocab_from_gguf(const gguf::File& file);

// vocab_from_gguf + Tokenizer::create.
Result<tokenizer::Tokenizer> tokenizer_from_gguf(const gguf::File& file);

// Opens `path` (metadata only is read) and builds its tokenizer; errors are prefixed with path.
Result<tokenizer::Tokenizer> tokenizer_from_gguf_path(const std::string& path);

}  // namespace smol::engine
