// Regenerates the committed seed corpus: `gguf_fuzz_seeds DIR`. Seeds are tiny valid files that
// reach every value type, several tensor types, custom alignment and v2, plus the corrupt cases
// of tests/gguf (so the fuzzer starts next to every error path).
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "../gguf/corrupt_cases.h"
#include "smol/gguf.h"

namespace {

using smol::gguf::TensorType;
using smol::gguf::Writer;

bool save(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  return static_cast<bool>(out);
}

std::vector<uint8_t> all_value_types() {
  Writer w;
  w.set_u8("u8", 1);
  w.set_i8("i8", -1);
  w.set_u16("u16", 2);
  w.set_i16("i16", -2);
  w.set_u32("u32", 3);
  w.set_i32("i32", -3);
  w.set_f32("f32", 0.5f);
  w.set_bool("bool", true);
  w.set_string("string", "s");
  w.set_u64("u64", 4);
  w.set_i64("i64", -4);
  w.set_f64("f64", 0.25);
  std::vector<int32_t> ints = {1, 2, 3};
  std::vector<float> floats = {1.0f, 2.0f};
  std::vector<std::string> strs = {"a", "bc"};
  bool bools[] = {true, false};
  w.set_array("ints", std::span<const int32_t>(ints));
  w.set_array("floats", std::span<const float>(floats));
  w.set_array("bools", std::span<const bool>(bools));
  w.set_string_array("strs", strs);
  return *w.to_bytes();
}

std::vector<uint8_t> tiny_model(uint32_t alignment) {
  Writer w;
  w.set_string("general.architecture", "smollm3");
  if (alignment != 32) w.set_u32("general.alignment", alignment);
  w.set_u32("smollm3.block_count", 1);
  std::vector<std::string> tokens = {"a", "b", "<|im_start|>", "<|im_end|>"};
  w.set_string_array("tokenizer.ggml.tokens", tokens);
  std::vector<uint8_t> norm(4 * 8, 0x3f);
  std::vector<uint8_t> q4k(144 * 2, 0x11);
  std::vector<uint8_t> q6k(210, 0x22);
  std::vector<uint8_t> q80(34 * 2, 0x33);
  const int64_t ne_norm[] = {8}, ne_q4k[] = {256, 2}, ne_q6k[] = {256}, ne_q80[] = {32, 1, 2};
  (void)w.add_tensor("output_norm.weight", TensorType::F32, ne_norm, norm);
  (void)w.add_tensor("blk.0.attn_q.weight", TensorType::Q4_K, ne_q4k, q4k);
  (void)w.add_tensor("token_embd.weight", TensorType::Q6_K, ne_q6k, q6k);
  (void)w.add_tensor("blk.0.x.weight", TensorType::Q8_0, ne_q80, q80);
  return *w.to_bytes();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: gguf_fuzz_seeds DIR\n");
    return 2;
  }
  std::string dir = argv[1];
  bool ok = save(dir + "/valid_all_value_types.gguf", all_value_types());
  ok &= save(dir + "/valid_tiny_model.gguf", tiny_model(32));
  ok &= save(dir + "/valid_tiny_model_align64.gguf", tiny_model(64));
  std::vector<uint8_t> v2 = tiny_model(32);
  v2[4] = 2;
  ok &= save(dir + "/valid_tiny_model_v2.gguf", v2);
  ok &= save(dir + "/valid_reference.gguf", smol::gguf::testing::valid_image());
  for (const auto& c : smol::gguf::testing::corrupt_cases()) {
    ok &= save(dir + "/corrupt_" + c.name + ".gguf", c.bytes);
  }
  return ok ? 0 : 1;
}
