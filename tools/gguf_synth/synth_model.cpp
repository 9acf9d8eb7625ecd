#include "synth_model.h"

#include <array>

namespace smol::synth {
namespace {

constexpr uint32_t kVocab = 128256;      // Llama-3 vocabulary as SmolLM3 uses it
constexpr float kRopeFreqBase = 5.0e6f;  // SmolLM3 rope theta (not Llama-3's 5e5)
constexpr float kRmsEps = 1e-6f;         // not Llama-3's 1e-5

// tiny: 4 layers so il=3 is a NoPE layer; 2 KV heads so a wrong query->KV head mapping shows.
// small: GQA 4:1 like the real model, with two KV groups. 3b: the real shape (facts §0.2).
const std::array<Preset, 3> kPresets = {{
    {"tiny", 4, 256, 768, 4, 2, kVocab, 8192, kRopeFreqBase, kRmsEps},
    {"small", 8, 512, 1536, 8, 2, kVocab, 8192, kRopeFreqBase, kRmsEps},
    {"3b", 36, 2048, 11008, 16, 4, kVocab, 65536, kRopeFreqBase, kRmsEps},
}};

}  // namespace

uint64_t row_bytes(TensorType type, uint64_t ne0) {
  const gguf::TypeTraits* traits = gguf::type_traits(type);
  SMOL_CHECK(traits != nullptr, "unknown tensor type");
  SMOL_CHECK(ne0 % traits->block_elems == 0, "row is not a whole number of blocks");
  return ne0 / traits->block_elems * traits->block_bytes;
}

uint64_t TensorSpec::n_elements() const {
  uint64_t n = 1;
  for (int64_t d : ne) n *= static_cast<uint64_t>(d);
  return n;
}

Result<Preset> preset_by_name(std::string_view name) {
  for (const Preset& p : kPresets) {
    if (p.name == name) return p;
  }
  return Error{"unknown preset '" + std::string(name) + "' (expected tiny, small or 3b)"};
}

std::vector<std::string> preset_names() {
  std::vector<std::string> names;
  for (const Preset& p : kPresets) names.push_back(p.name);
  return names;
}

bool use_more_bits(int i, int n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

std::vector<TensorSpec> tensor_plan(const Preset& p) {
  std::vector<TensorSpec> plan;
  const int64_t embd = p.n_embd, embd_kv = p.n_embd_kv(), ff = p.n_ff;
  // The tied embedding doubles as the output matrix, so Q4_K_M gives it Q6_K.
  plan.push_back(
      {"token_embd.weight", {embd, p.n_vocab}, TensorType::Q6_K, TensorRole::kTokenEmbd, -1});
  plan.push_back({"output_norm.weight", {embd}, TensorType::F32, TensorRole::kNorm, -1});
  const int n = static_cast<int>(p.n_layer);
  for (int il = 0; il < n; ++il) {
    const std::string blk = "blk." + std::to_string(il) + ".";
    // One attn_v and one ffn_down per block, so both running counters equal il.
    const TensorType more = use_more_bits(il, n) ? TensorType::Q6_K : TensorType::Q4_K;
    plan.push_back({blk + "attn_norm.weight", {embd}, TensorType::F32, TensorRole::kNorm, il});
    plan.push_back({blk + "attn_q.weight", {embd, embd}, TensorType::Q4_K, TensorRole::kAttnQ, il});
    plan.push_back(
        {blk + "attn_k.weight", {embd, embd_kv}, TensorType::Q4_K, TensorRole::kAttnK, il});
    plan.push_back({blk + "attn_v.weight", {embd, embd_kv}, more, TensorRole::kAttnV, il});
    plan.push_back(
        {blk + "attn_output.weight", {embd, embd}, TensorType::Q4_K, TensorRole::kAttnOutput, il});
    plan.push_back({blk + "ffn_norm.weight", {embd}, TensorType::F32, TensorRole::kNorm, il});
    plan.push_back(
        {blk + "ffn_gate.weight", {embd, ff}, TensorType::Q4_K, TensorRole::kFfnGate, il});
    plan.push_back({blk + "ffn_up.weight", {embd, ff}, TensorType::Q4_K, TensorRole::kFfnUp, il});
    plan.push_back({blk + "ffn_down.weight", {ff, embd}, more, TensorRole::kFfnDown, il});
  }
  return plan;
}

PlanSummary summarize(const Preset& preset, const std::vector<TensorSpec>& plan) {
  PlanSummary s;
  for (const TensorSpec& t : plan) {
    ++s.n_tensors;
    s.n_f32 += t.type == TensorType::F32;
    s.n_q4_k += t.type == TensorType::Q4_K;
    s.n_q6_k += t.type == TensorType::Q6_K;
    s.n_params += t.n_elements();
    const uint64_t a = gguf::kDefaultAlignment;
    s.data_bytes += (t.n_bytes() + a - 1) / a * a;
  }
  for (uint32_t il = 0; il < preset.n_layer; ++il) {
    if (!preset.uses_rope(il)) s.nope_layers.push_back(il);
  }
  return s;
}

}  // namespace smol::synth
