// The synthetic files as our reader sees them (fixtures synth_tiny and synth_small): the
// metadata keys, their order and GGUF value types of the real SmolLM3-3B Q4_K_M file (facts §1.1,
// §3.1), the tensor plan, packed data offsets, the vocabulary arrays, and weight statistics
// matching the scales docs/synth.md promises.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "smol/gguf.h"
#include "smol/kernels.h"
#include "synth_model.h"
#include "synth_vocab.h"
#include "synth_weights.h"

namespace smol::synth {
namespace {

using gguf::ValueType;

std::string model_path(const std::string& preset) {
  const char* dir = std::getenv("SMOL_MODEL_DIR");
  return std::string(dir ? dir : "build/models") + "/synth-" + preset + ".gguf";
}

class SynthFile : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    const std::string path = model_path(GetParam());
    ASSERT_TRUE(std::filesystem::exists(path))
        << path << " missing: run the synth_" << GetParam() << " fixture (ctest -R synth_)";
    auto f = gguf::File::open(path);
    ASSERT_TRUE(f.ok()) << f.error();
    file_ = std::make_unique<gguf::File>(std::move(*f));
    preset_ = preset_by_name(GetParam()).value();
  }
  std::unique_ptr<gguf::File> file_;
  Preset preset_;
};

// Keys and value types in the order the real file has them (general.name is our only extra).
TEST_P(SynthFile, MetadataKeysTypesAndOrderMatchTheRealFile) {
  const std::vector<std::pair<std::string, ValueType>> expected = {
      {"general.architecture", ValueType::STRING},
      {"general.name", ValueType::STRING},
      {"smollm3.block_count", ValueType::U32},
      {"smollm3.context_length", ValueType::U32},
      {"smollm3.embedding_length", ValueType::U32},
      {"smollm3.feed_forward_length", ValueType::U32},
      {"smollm3.attention.head_count", ValueType::U32},
      {"smollm3.attention.head_count_kv", ValueType::U32},
      {"smollm3.rope.freq_base", ValueType::F32},
      {"smollm3.attention.layer_norm_rms_epsilon", ValueType::F32},
      {"smollm3.vocab_size", ValueType::U32},
      {"smollm3.rope.dimension_count", ValueType::U32},
      {"general.file_type", ValueType::U32},
      {"general.quantization_version", ValueType::U32},
      {"tokenizer.ggml.model", ValueType::STRING},
      {"tokenizer.ggml.pre", ValueType::STRING},
      {"tokenizer.ggml.tokens", ValueType::ARRAY},
      {"tokenizer.ggml.token_type", ValueType::ARRAY},
      {"tokenizer.ggml.merges", ValueType::ARRAY},
      {"tokenizer.ggml.bos_token_id", ValueType::U32},
      {"tokenizer.ggml.eos_token_id", ValueType::U32},
      {"tokenizer.ggml.padding_token_id", ValueType::U32},
      {"tokenizer.chat_template", ValueType::STRING},
  };
  const auto& md = file_->metadata();
  ASSERT_EQ(md.size(), expected.size());
  for (size_t i = 0; i < md.size(); ++i) {
    EXPECT_EQ(md[i].key, expected[i].first) << "key #" << i;
    EXPECT_EQ(md[i].value.type(), expected[i].second) << md[i].key;
  }
  EXPECT_EQ(file_->version(), 3u);
  EXPECT_EQ(file_->alignment(), 32u);
  EXPECT_FALSE(file_->has("general.alignment"));
  EXPECT_EQ(file_->find("tokenizer.ggml.tokens")->elem_type(), ValueType::STRING);
  EXPECT_EQ(file_->find("tokenizer.ggml.token_type")->elem_type(), ValueType::I32);
  EXPECT_EQ(file_->find("tokenizer.ggml.merges")->elem_type(), ValueType::STRING);
}

TEST_P(SynthFile, MetadataValues) {
  const gguf::File& f = *file_;
  EXPECT_EQ(f.get_string("general.architecture").value(), "smollm3");
  EXPECT_EQ(f.get_u32("smollm3.block_count").value(), preset_.n_layer);
  EXPECT_EQ(f.get_u32("smollm3.context_length").value(), preset_.n_ctx);
  EXPECT_EQ(f.get_u32("smollm3.embedding_length").value(), preset_.n_embd);
  EXPECT_EQ(f.get_u32("smollm3.feed_forward_length").value(), preset_.n_ff);
  EXPECT_EQ(f.get_u32("smollm3.attention.head_count").value(), preset_.n_head);
  EXPECT_EQ(f.get_u32("smollm3.attention.head_count_kv").value(), preset_.n_head_kv);
  EXPECT_EQ(f.get_f32("smollm3.rope.freq_base").value(), 5.0e6f);
  EXPECT_EQ(f.get_f32("smollm3.attention.layer_norm_rms_epsilon").value(), 1e-6f);
  EXPECT_EQ(f.get_u32("smollm3.vocab_size").value(), 128256u);
  EXPECT_EQ(f.get_u32("smollm3.rope.dimension_count").value(), preset_.head_dim());
  EXPECT_EQ(f.get_u32("general.file_type").value(), 15u);
  EXPECT_EQ(f.get_u32("general.quantization_version").value(), 2u);
  EXPECT_EQ(f.get_string("tokenizer.ggml.model").value(), "gpt2");
  EXPECT_EQ(f.get_string("tokenizer.ggml.pre").value(), "smaug-bpe");
  EXPECT_EQ(f.get_u32("tokenizer.ggml.bos_token_id").value(), 128000u);
  EXPECT_EQ(f.get_u32("tokenizer.ggml.eos_token_id").value(), 128012u);
  EXPECT_EQ(f.get_u32("tokenizer.ggml.padding_token_id").value(), 128012u);
  const std::string_view tmpl = f.get_string("tokenizer.chat_template").value();
  EXPECT_NE(tmpl.find("<|im_start|>"), std::string_view::npos);
}

TEST_P(SynthFile, VocabularyArrays) {
  auto tokens = file_->get_string_array("tokenizer.ggml.tokens");
  auto types = file_->get_i32_array("tokenizer.ggml.token_type");
  auto merges = file_->get_string_array("tokenizer.ggml.merges");
  ASSERT_TRUE(tokens.ok() && types.ok() && merges.ok());
  ASSERT_EQ(tokens->size(), 128256u);
  ASSERT_EQ(types->size(), 128256u);
  EXPECT_EQ(merges->size(), 280147u);
  EXPECT_EQ((*merges)[0], "Ġ Ġ");
  EXPECT_EQ((*tokens)[220], "Ġ");
  EXPECT_EQ((*tokens)[198], "Ċ");
  EXPECT_EQ((*tokens)[128000], "<|begin_of_text|>");
  EXPECT_EQ((*tokens)[128001], "<|end_of_text|>");
  EXPECT_EQ((*tokens)[128009], "<|eot_id|>");
  for (const SpecialToken& s : smollm3_special_tokens()) {
    EXPECT_EQ((*tokens)[s.id], s.text);
    EXPECT_EQ((*types)[s.id], static_cast<int32_t>(TokenType::kControl)) << s.text;
  }
  int n_normal = 0, n_control = 0;
  for (int32_t t : *types) {
    n_normal += t == static_cast<int32_t>(TokenType::kNormal);
    n_control += t == static_cast<int32_t>(TokenType::kControl);
  }
  EXPECT_EQ(n_normal, 128000);
  EXPECT_EQ(n_control, 256);
}

TEST_P(SynthFile, TensorsFollowThePlanPackedInOrder) {
  const std::vector<TensorSpec> plan = tensor_plan(preset_);
  const auto& tensors = file_->tensors();
  ASSERT_EQ(tensors.size(), plan.size());
  EXPECT_EQ(file_->find_tensor("output.weight"), nullptr);  // tied embeddings
  uint64_t expected_offset = 0;
  for (size_t i = 0; i < plan.size(); ++i) {
    const gguf::TensorInfo& t = tensors[i];
    EXPECT_EQ(t.name, plan[i].name);
    EXPECT_EQ(t.type, plan[i].type) << t.name;
    ASSERT_EQ(t.n_dims, plan[i].ne.size()) << t.name;
    for (size_t d = 0; d < plan[i].ne.size(); ++d) EXPECT_EQ(t.ne[d], plan[i].ne[d]) << t.name;
    EXPECT_EQ(t.offset, expected_offset) << t.name;
    EXPECT_EQ(t.n_bytes, plan[i].n_bytes()) << t.name;
    expected_offset += (t.n_bytes + 31) / 32 * 32;
  }
  EXPECT_LE(file_->data_offset() + expected_offset, file_->file_size());
}

// Dequantized weights have the mean and spread synth_weights.cpp intends (quantization error is
// a few percent of the spread), and every value is finite.
TEST_P(SynthFile, WeightStatisticsMatchTheDocumentedScales) {
  const std::vector<TensorSpec> plan = tensor_plan(preset_);
  for (size_t i = 0; i < plan.size(); ++i) {
    const TensorSpec& spec = plan[i];
    const gguf::TensorInfo* t = file_->find_tensor(spec.name);
    ASSERT_NE(t, nullptr) << spec.name;
    const auto qtype = kernels::quant_type_from_id(static_cast<uint32_t>(t->type));
    ASSERT_TRUE(qtype.has_value()) << spec.name;
    // Enough rows for a tight estimate without dequantizing the whole embedding.
    const int64_t rows = std::min<int64_t>(t->n_rows(), 64);
    const int64_t ne0 = t->ne[0];
    const uint64_t stride = static_cast<uint64_t>(kernels::row_bytes(*qtype, ne0));
    std::vector<float> row(static_cast<size_t>(ne0));
    double sum = 0, sum2 = 0;
    uint64_t n = 0;
    for (int64_t r = 0; r < rows; ++r) {
      kernels::dequantize_row(*qtype, t->data + r * stride, row.data(), ne0);
      for (float v : row) {
        ASSERT_TRUE(std::isfinite(v)) << spec.name;
        sum += v;
        sum2 += double(v) * v;
        ++n;
      }
    }
    const double mean = sum / n;
    const double sd = std::sqrt(std::max(0.0, sum2 / n - mean * mean));
    const double want_mean = spec.role == TensorRole::kNorm ? 1.0 : 0.0;
    const double want_sd = weight_std(preset_, spec);
    // Sampling error of the mean is sd/sqrt(n); allow 6 of those.
    EXPECT_NEAR(mean, want_mean, 6 * want_sd / std::sqrt(double(n))) << spec.name;
    EXPECT_NEAR(sd, want_sd, 0.08 * want_sd) << spec.name;
  }
}

INSTANTIATE_TEST_SUITE_P(Presets, SynthFile, ::testing::Values("tiny", "small"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace smol::synth
