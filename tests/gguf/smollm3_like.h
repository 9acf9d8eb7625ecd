// Test helper: a tiny file with SmolLM3's metadata keys, key types and tensor names (4 layers,
// hidden 256), made with the Writer. Tensor data is zero: only the layout matters here.
#pragma once

#include <string>
#include <vector>

#include "smol/gguf.h"

namespace smol::gguf::testing {

inline Writer smollm3_like_writer() {
  constexpr uint32_t kLayers = 4, kEmbd = 256, kFf = 512, kHead = 4, kHeadKv = 2;
  Writer w;
  w.set_string("general.architecture", "smollm3");
  w.set_string("general.name", "SmolLM3 test\nlayout");
  w.set_u32("smollm3.block_count", kLayers);
  w.set_u32("smollm3.context_length", 65536);
  w.set_u32("smollm3.embedding_length", kEmbd);
  w.set_u32("smollm3.feed_forward_length", kFf);
  w.set_u32("smollm3.attention.head_count", kHead);
  w.set_u32("smollm3.attention.head_count_kv", kHeadKv);
  w.set_f32("smollm3.rope.freq_base", 5000000.0f);
  w.set_f32("smollm3.attention.layer_norm_rms_epsilon", 1e-6f);
  w.set_u32("general.file_type", 15);
  w.set_string("tokenizer.ggml.model", "gpt2");
  w.set_string("tokenizer.ggml.pre", "smaug-bpe");
  std::vector<std::string> tokens;
  for (int i = 0; i < 100; ++i) tokens.push_back(std::string("t").append(std::to_string(i)));
  const char* specials[] = {"<|begin_of_text|>", "<|im_start|>", "<|im_end|>",  "<think>",
                            "</think>",          "<tool_call>",  "</tool_call>"};
  for (const char* s : specials) tokens.push_back(s);  // ids 100..106
  std::vector<int32_t> types(tokens.size(), 1);
  for (size_t i = 100; i < types.size(); ++i) types[i] = 3;
  w.set_u32("smollm3.vocab_size", static_cast<uint32_t>(tokens.size()));
  w.set_string_array("tokenizer.ggml.tokens", tokens);
  w.set_array("tokenizer.ggml.token_type", std::span<const int32_t>(types));
  std::vector<std::string> merges = {"t 1", "t 2"};
  w.set_string_array("tokenizer.ggml.merges", merges);
  w.set_u32("tokenizer.ggml.bos_token_id", 100);
  w.set_u32("tokenizer.ggml.eos_token_id", 102);
  w.set_u32("tokenizer.ggml.padding_token_id", 102);
  w.set_string("tokenizer.chat_template", "{% for m in messages %}<|im_start|>...");
  w.set_u32("general.quantization_version", 2);

  auto zeros = [](std::span<uint8_t>) -> Status { return {}; };
  auto add = [&](const std::string& name, TensorType type, std::vector<int64_t> ne) {
    Status st = w.add_tensor(name, type, ne, zeros);
    SMOL_CHECK(st.ok(), "smollm3_like_writer: add_tensor");
  };
  const int64_t vocab = static_cast<int64_t>(tokens.size());
  add("token_embd.weight", TensorType::Q6_K, {kEmbd, vocab});
  add("output_norm.weight", TensorType::F32, {kEmbd});
  for (uint32_t il = 0; il < kLayers; ++il) {
    std::string p = "blk." + std::to_string(il) + ".";
    add(p + "attn_norm.weight", TensorType::F32, {kEmbd});
    add(p + "attn_q.weight", TensorType::Q4_K, {kEmbd, kEmbd});
    add(p + "attn_k.weight", TensorType::Q4_K, {kEmbd, kEmbd / kHead * kHeadKv});
    add(p + "attn_v.weight", TensorType::Q6_K, {kEmbd, kEmbd / kHead * kHeadKv});
    add(p + "attn_output.weight", TensorType::Q4_K, {kEmbd, kEmbd});
    add(p + "ffn_norm.weight", TensorType::F32, {kEmbd});
    add(p + "ffn_gate.weight", TensorType::Q4_K, {kEmbd, kFf});
    add(p + "ffn_up.weight", TensorType::Q4_K, {kEmbd, kFf});
    add(p + "ffn_down.weight", TensorType::Q6_K, {kFf, kEmbd});
  }
  return w;
}

}  // namespace smol::gguf::testing
