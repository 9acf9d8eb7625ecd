// The tensor plan of each preset against the reference facts (smollm3-gguf-facts.md §0, §1.3, §2):
// for 3b the exact counts, shapes, types and byte totals of the real SmolLM3-3B Q4_K_M file.
#include <gtest/gtest.h>

#include <set>

#include "synth_model.h"
#include "synth_writer.h"

namespace smol::synth {
namespace {

TEST(SynthPlan, UseMoreBitsForThirtySixLayers) {
  std::set<int> q6;
  for (int i = 0; i < 36; ++i) {
    if (use_more_bits(i, 36)) q6.insert(i);
  }
  const std::set<int> expected = {0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 30, 31, 32, 33, 34, 35};
  EXPECT_EQ(q6, expected);
}

TEST(SynthPlan, ThreeBMatchesTheRealFile) {
  const Preset p = preset_by_name("3b").value();
  EXPECT_EQ(p.n_layer, 36u);
  EXPECT_EQ(p.n_embd, 2048u);
  EXPECT_EQ(p.n_ff, 11008u);
  EXPECT_EQ(p.n_head, 16u);
  EXPECT_EQ(p.n_head_kv, 4u);
  EXPECT_EQ(p.head_dim(), 128u);
  EXPECT_EQ(p.n_vocab, 128256u);
  EXPECT_EQ(p.n_ctx, 65536u);
  EXPECT_EQ(p.rope_freq_base, 5.0e6f);
  EXPECT_EQ(p.rms_eps, 1e-6f);

  const std::vector<TensorSpec> plan = tensor_plan(p);
  const PlanSummary s = summarize(p, plan);
  EXPECT_EQ(s.n_tensors, 326u);
  EXPECT_EQ(s.n_q4_k, 216u);
  EXPECT_EQ(s.n_q6_k, 37u);
  EXPECT_EQ(s.n_f32, 73u);
  EXPECT_EQ(s.data_bytes, 1907462144ull);
  EXPECT_EQ(s.n_params, 3075098624ull);
  EXPECT_EQ(s.nope_layers, (std::vector<uint32_t>{3, 7, 11, 15, 19, 23, 27, 31, 35}));

  ASSERT_EQ(plan[0].name, "token_embd.weight");
  EXPECT_EQ(plan[0].ne, (std::vector<int64_t>{2048, 128256}));
  EXPECT_EQ(plan[0].type, TensorType::Q6_K);
  EXPECT_EQ(plan[1].name, "output_norm.weight");
  for (const TensorSpec& t : plan) EXPECT_NE(t.name, "output.weight");

  // Block 0 in file order, with the facts' shapes (ne0 first) and sizes per row.
  const std::vector<std::pair<std::string, std::vector<int64_t>>> blk0 = {
      {"blk.0.attn_norm.weight", {2048}},         {"blk.0.attn_q.weight", {2048, 2048}},
      {"blk.0.attn_k.weight", {2048, 512}},       {"blk.0.attn_v.weight", {2048, 512}},
      {"blk.0.attn_output.weight", {2048, 2048}}, {"blk.0.ffn_norm.weight", {2048}},
      {"blk.0.ffn_gate.weight", {2048, 11008}},   {"blk.0.ffn_up.weight", {2048, 11008}},
      {"blk.0.ffn_down.weight", {11008, 2048}},
  };
  for (size_t i = 0; i < blk0.size(); ++i) {
    EXPECT_EQ(plan[2 + i].name, blk0[i].first);
    EXPECT_EQ(plan[2 + i].ne, blk0[i].second) << blk0[i].first;
  }
  EXPECT_EQ(plan[2 + 8].n_bytes(), 2048u * 9030u);  // Q6_K ffn_down: 43 super-blocks per row
  EXPECT_EQ(plan[2 + 3].n_bytes(), 512u * 1680u);   // Q6_K attn_v
  EXPECT_EQ(plan[2 + 1].n_bytes(), 2048u * 1152u);  // Q4_K attn_q

  // The 37 Q6_K tensors: token_embd plus attn_v and ffn_down of the use_more_bits layers.
  for (const TensorSpec& t : plan) {
    const bool v_or_down = t.role == TensorRole::kAttnV || t.role == TensorRole::kFfnDown;
    if (t.role == TensorRole::kNorm) {
      EXPECT_EQ(t.type, TensorType::F32) << t.name;
    } else if (v_or_down) {
      EXPECT_EQ(t.type, use_more_bits(t.layer, 36) ? TensorType::Q6_K : TensorType::Q4_K) << t.name;
    } else if (t.role != TensorRole::kTokenEmbd) {
      EXPECT_EQ(t.type, TensorType::Q4_K) << t.name;
    }
  }
}

TEST(SynthPlan, SmallPresetsKeepTheRealRules) {
  for (const std::string& name : preset_names()) {
    const Preset p = preset_by_name(name).value();
    SCOPED_TRACE(name);
    EXPECT_EQ(p.n_vocab, 128256u);
    EXPECT_EQ(p.n_embd % 256, 0u);
    EXPECT_EQ(p.n_ff % 256, 0u);
    EXPECT_EQ(p.n_embd % p.n_head, 0u);
    EXPECT_EQ(p.n_head % p.n_head_kv, 0u);
    const PlanSummary s = summarize(p, tensor_plan(p));
    EXPECT_EQ(s.n_tensors, 2 + 9 * p.n_layer);
    EXPECT_EQ(s.n_f32, 1 + 2 * p.n_layer);
    EXPECT_FALSE(s.nope_layers.empty()) << "every preset has a NoPE layer";
  }
  const Preset tiny = preset_by_name("tiny").value();
  EXPECT_LE(tiny.n_layer, 4u);
  EXPECT_EQ(tiny.n_embd, 256u);
  EXPECT_FALSE(tiny.uses_rope(3));
  EXPECT_GT(tiny.n_head_kv, 1u) << "more than one KV group catches a wrong head mapping";
  const Preset small = preset_by_name("small").value();
  EXPECT_EQ(small.n_layer, 8u);
  EXPECT_EQ(small.n_embd, 512u);
  EXPECT_EQ(small.n_ff, 1536u);
  EXPECT_EQ(small.n_head / small.n_head_kv, 4u);
}

TEST(SynthPlan, UnknownPresetIsAnError) {
  auto p = preset_by_name("7b");
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().find("7b"), std::string::npos);
}

TEST(SynthPlan, PlanJsonCarriesTheTotals) {
  const std::string j = plan_json(preset_by_name("3b").value(), nullptr);
  EXPECT_NE(j.find("\"data_bytes\": 1907462144"), std::string::npos);
  EXPECT_NE(j.find("\"Q4_K\": 216"), std::string::npos);
  EXPECT_NE(j.find("\"n_tensors\": 326"), std::string::npos);
}

}  // namespace
}  // namespace smol::synth
