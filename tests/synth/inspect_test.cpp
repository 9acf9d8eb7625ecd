// gguf-inspect --json on synth-tiny.gguf (fixture synth_tiny) against our reader's own view:
// version, architecture, every key (scalars by value, arrays by count), and every tensor's
// name, type, shape, offset and size; plus type_counts, n_params and file_bytes.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "smol/gguf.h"

namespace smol::synth {
namespace {

using json = nlohmann::ordered_json;  // keeps the key order gguf-inspect printed

std::string env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v ? v : fallback;
}

// Runs a command and returns its stdout (the exit status must be 0).
std::string run(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[1 << 16];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int status = pclose(p);
  EXPECT_EQ(status, 0) << cmd;
  return out;
}

TEST(SynthInspect, GgufInspectJsonAgreesWithTheReader) {
  const std::string inspect = env_or("SMOL_BIN_DIR", "build/bin") + std::string("/gguf-inspect");
  const std::string model =
      env_or("SMOL_MODEL_DIR", "build/models") + std::string("/synth-tiny.gguf");
  if (!std::filesystem::exists(inspect)) GTEST_SKIP() << inspect << " is not built";
  ASSERT_TRUE(std::filesystem::exists(model)) << model << " missing (fixture synth_tiny)";

  const json j = json::parse(run("'" + inspect + "' '" + model + "' --json"), nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << "gguf-inspect --json printed invalid JSON";
  auto f = gguf::File::open(model);
  ASSERT_TRUE(f.ok()) << f.error();

  EXPECT_EQ(j.at("version").get<uint32_t>(), f->version());
  EXPECT_EQ(j.at("architecture").get<std::string>(), "smollm3");
  EXPECT_EQ(j.at("file_bytes").get<uint64_t>(), f->file_size());

  const json& md = j.at("metadata");
  ASSERT_EQ(md.size(), f->metadata().size());
  size_t i = 0;
  for (auto it = md.begin(); it != md.end(); ++it, ++i) {
    const gguf::KeyValue& kv = f->metadata()[i];
    ASSERT_EQ(it.key(), kv.key) << "key #" << i << " (order)";
    const gguf::Value& v = kv.value;
    switch (v.type()) {
      case gguf::ValueType::STRING:
        EXPECT_EQ(it->get<std::string>(), *v.as_string()) << kv.key;
        break;
      case gguf::ValueType::F32:
        EXPECT_FLOAT_EQ(it->get<float>(), static_cast<float>(*v.as_float())) << kv.key;
        break;
      case gguf::ValueType::ARRAY:
        // Long arrays are summarised as {type, elem_type, count, head}.
        if (it->is_object()) {
          EXPECT_EQ(it->at("count").get<uint64_t>(), v.count()) << kv.key;
        } else {
          EXPECT_EQ(it->size(), v.count()) << kv.key;
        }
        break;
      default:
        EXPECT_EQ(it->get<int64_t>(), *v.as_int()) << kv.key;
    }
  }

  const json& tensors = j.at("tensors");
  ASSERT_EQ(tensors.size(), f->tensors().size());
  std::map<std::string, uint64_t> counts;
  uint64_t n_params = 0;
  for (size_t t = 0; t < tensors.size(); ++t) {
    const gguf::TensorInfo& info = f->tensors()[t];
    const json& jt = tensors[t];
    EXPECT_EQ(jt.at("name").get<std::string>(), info.name);
    EXPECT_EQ(jt.at("type").get<std::string>(), gguf::type_name(info.type)) << info.name;
    EXPECT_EQ(jt.at("shape").get<std::vector<int64_t>>(),
              std::vector<int64_t>(info.ne.begin(), info.ne.begin() + info.n_dims))
        << info.name;
    EXPECT_EQ(jt.at("offset").get<uint64_t>(), info.offset) << info.name;
    EXPECT_EQ(jt.at("bytes").get<uint64_t>(), info.n_bytes) << info.name;
    ++counts[std::string(gguf::type_name(info.type))];
    n_params += info.n_elements;
  }
  EXPECT_EQ(j.at("type_counts").get<decltype(counts)>(), counts);
  EXPECT_EQ(j.at("n_params").get<uint64_t>(), n_params);
}

}  // namespace
}  // namespace smol::synth
