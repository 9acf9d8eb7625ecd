#include "synth_writer.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "synth_weights.h"

namespace smol::synth {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// ChatML, as SmolLM3 formats turns, without the real template's metadata header and flags.
constexpr std::string_view kDefaultChatTemplate =
    "{%- for message in messages -%}\n"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' -}}\n"
    "{%- endfor -%}\n"
    "{%- if add_generation_prompt -%}\n"
    "{{- '<|im_start|>assistant\\n' -}}\n"
    "{%- endif -%}\n";

constexpr uint32_t kFileTypeQ4_K_M = 15;  // LLAMA_FTYPE_MOSTLY_Q4_K_M
constexpr uint32_t kQuantizationVersion = 2;

Result<std::string> read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{path + ": cannot open chat template"};
  std::ostringstream ss;
  ss << in.rdbuf();
  if (!in.good() && !in.eof()) return Error{path + ": read error"};
  return ss.str();
}

}  // namespace

std::string_view default_chat_template() { return kDefaultChatTemplate; }

void set_metadata(gguf::Writer& w, const Preset& p, const Vocab& vocab,
                  std::string_view chat_template, uint64_t seed) {
  w.set_string("general.architecture", "smollm3");  // llama.cpp expects it first
  w.set_string("general.name", "SmolLM3 synthetic " + p.name + " (random weights, seed " +
                                   std::to_string(seed) + ")");
  w.set_u32("smollm3.block_count", p.n_layer);
  w.set_u32("smollm3.context_length", p.n_ctx);
  w.set_u32("smollm3.embedding_length", p.n_embd);
  w.set_u32("smollm3.feed_forward_length", p.n_ff);
  w.set_u32("smollm3.attention.head_count", p.n_head);
  w.set_u32("smollm3.attention.head_count_kv", p.n_head_kv);
  w.set_f32("smollm3.rope.freq_base", p.rope_freq_base);
  w.set_f32("smollm3.attention.layer_norm_rms_epsilon", p.rms_eps);
  w.set_u32("smollm3.vocab_size", p.n_vocab);
  w.set_u32("smollm3.rope.dimension_count", p.head_dim());
  w.set_u32("general.file_type", kFileTypeQ4_K_M);
  w.set_u32("general.quantization_version", kQuantizationVersion);
  w.set_string("tokenizer.ggml.model", "gpt2");
  w.set_string("tokenizer.ggml.pre", "smaug-bpe");
  w.set_string_array("tokenizer.ggml.tokens", vocab.tokens);
  w.set_array("tokenizer.ggml.token_type", std::span<const int32_t>(vocab.token_types));
  w.set_string_array("tokenizer.ggml.merges", vocab.merges);
  w.set_u32("tokenizer.ggml.bos_token_id", kBosTokenId);
  w.set_u32("tokenizer.ggml.eos_token_id", kEosTokenId);
  w.set_u32("tokenizer.ggml.padding_token_id", kPadTokenId);
  w.set_string("tokenizer.chat_template", chat_template);
}

Result<SynthStats> write_synth_model(const SynthOptions& o) {
  const auto t_start = Clock::now();
  SynthStats stats;
  auto preset = preset_by_name(o.preset);
  if (!preset) return Error{preset.error()};
  if (o.out.empty()) return Error{"no output file given (--out FILE)"};

  std::string tokenizer_path = o.tokenizer_json;
  if (tokenizer_path.empty()) {
    auto found = find_default_tokenizer_json();
    if (!found) return Error{found.error()};
    tokenizer_path = *found;
  }
  std::string chat_template(default_chat_template());
  if (!o.chat_template_path.empty()) {
    auto text = read_text_file(o.chat_template_path);
    if (!text) return Error{text.error()};
    chat_template = std::move(*text);
  }

  const auto t_vocab = Clock::now();
  auto vocab = load_vocab(tokenizer_path);
  if (!vocab) return Error{vocab.error()};
  if (vocab->tokens.size() != preset->n_vocab) {
    return Error{tokenizer_path + ": " + std::to_string(vocab->tokens.size()) +
                 " tokens, but SmolLM3 has " + std::to_string(preset->n_vocab)};
  }
  stats.vocab_seconds = seconds_since(t_vocab);

  gguf::Writer writer;
  set_metadata(writer, *preset, *vocab, chat_template, o.seed);
  const std::vector<TensorSpec> plan = tensor_plan(*preset);
  stats.plan = summarize(*preset, plan);
  double* weights_seconds = &stats.weights_seconds;
  for (size_t i = 0; i < plan.size(); ++i) {
    const TensorSpec* spec = &plan[i];
    const Preset* p = &*preset;
    const uint64_t seed = o.seed;
    const uint32_t index = static_cast<uint32_t>(i);
    auto fill = [p, spec, seed, index, weights_seconds](std::span<uint8_t> out) -> Status {
      const auto t0 = Clock::now();
      fill_tensor(*p, *spec, seed, index, out);
      *weights_seconds += seconds_since(t0);
      return {};
    };
    SMOL_TRY(writer.add_tensor(spec->name, spec->type, spec->ne, fill));
  }
  if (Status s = writer.write(o.out); !s) return Error{o.out + ": " + s.error()};

  std::error_code ec;
  stats.file_bytes = std::filesystem::file_size(o.out, ec);
  stats.total_seconds = seconds_since(t_start);
  return stats;
}

std::string plan_json(const Preset& p, const Vocab* vocab) {
  using nlohmann::ordered_json;
  const std::vector<TensorSpec> plan = tensor_plan(p);
  const PlanSummary s = summarize(p, plan);
  ordered_json j;
  j["preset"] = p.name;
  j["architecture"] = "smollm3";
  j["n_layer"] = p.n_layer;
  j["n_embd"] = p.n_embd;
  j["n_ff"] = p.n_ff;
  j["n_head"] = p.n_head;
  j["n_head_kv"] = p.n_head_kv;
  j["head_dim"] = p.head_dim();
  j["n_vocab"] = p.n_vocab;
  j["n_ctx"] = p.n_ctx;
  j["rope_freq_base"] = p.rope_freq_base;
  j["rms_eps"] = p.rms_eps;
  j["nope_layers"] = s.nope_layers;
  j["n_tensors"] = s.n_tensors;
  j["type_counts"] = {{"F32", s.n_f32}, {"Q4_K", s.n_q4_k}, {"Q6_K", s.n_q6_k}};
  j["n_params"] = s.n_params;
  j["data_bytes"] = s.data_bytes;
  if (vocab != nullptr) {
    j["n_tokens"] = vocab->tokens.size();
    j["n_merges"] = vocab->merges.size();
    j["renamed_slots"] = vocab->replaced;
  }
  ordered_json tensors = ordered_json::array();
  for (const TensorSpec& t : plan) {
    tensors.push_back({{"name", t.name},
                       {"type", gguf::type_name(t.type)},
                       {"shape", t.ne},
                       {"bytes", t.n_bytes()}});
  }
  j["tensors"] = std::move(tensors);
  return j.dump(1);
}

}  // namespace smol::synth
