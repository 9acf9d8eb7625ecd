// Same seed, same bytes; another seed, other weights but the same layout. Also: tensor data does
// not depend on the number of OpenMP threads (every row has its own generator).
#include <gtest/gtest.h>
#include <omp.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "synth_weights.h"
#include "synth_writer.h"

namespace smol::synth {
namespace {

namespace fs = std::filesystem;

std::vector<char> read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class SynthDeterminism : public ::testing::Test {
 protected:
  void SetUp() override {
    auto tok = find_default_tokenizer_json();
    if (!tok.ok()) GTEST_SKIP() << tok.error();
    dir_ = fs::temp_directory_path() / ("synth_det_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  std::string write(uint64_t seed, const std::string& name) {
    SynthOptions o;
    o.preset = "tiny";
    o.seed = seed;
    o.out = (dir_ / name).string();
    auto stats = write_synth_model(o);
    EXPECT_TRUE(stats.ok()) << (stats.ok() ? "" : stats.error());
    return o.out;
  }
  fs::path dir_;
};

TEST_F(SynthDeterminism, SameSeedSameBytesOtherSeedOtherWeights) {
  const auto a = read_all(write(7, "a.gguf"));
  const auto b = read_all(write(7, "b.gguf"));
  const auto c = read_all(write(8, "c.gguf"));
  ASSERT_GT(a.size(), 20u << 20);
  EXPECT_TRUE(a == b) << "same seed gave different files";
  // The seed is in general.name, so the metadata differs by one digit and the sizes match.
  ASSERT_EQ(a.size(), c.size());
  size_t differing = 0;
  for (size_t i = 0; i < a.size(); ++i) differing += a[i] != c[i];
  // Nearly every weight byte changes; a seed that only changed the name would differ in 1 byte.
  EXPECT_GT(differing, a.size() / 2) << "another seed should give other weights";
}

TEST_F(SynthDeterminism, TensorBytesDoNotDependOnThreadCount) {
  const Preset p = preset_by_name("tiny").value();
  const std::vector<TensorSpec> plan = tensor_plan(p);
  for (size_t i : {size_t{0}, size_t{3}, plan.size() - 1}) {
    const TensorSpec& spec = plan[i];
    std::vector<uint8_t> one(spec.n_bytes()), many(spec.n_bytes());
    const int saved = omp_get_max_threads();
    omp_set_num_threads(1);
    fill_tensor(p, spec, 42, static_cast<uint32_t>(i), one);
    omp_set_num_threads(3);
    fill_tensor(p, spec, 42, static_cast<uint32_t>(i), many);
    omp_set_num_threads(saved);
    EXPECT_TRUE(one == many) << spec.name;
  }
}

TEST_F(SynthDeterminism, BadOptionsAreErrors) {
  SynthOptions o;
  o.preset = "huge";
  o.out = (dir_ / "x.gguf").string();
  auto r = write_synth_model(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("huge"), std::string::npos);

  o.preset = "tiny";
  o.chat_template_path = "/nonexistent/template.jinja";
  r = write_synth_model(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("/nonexistent/template.jinja"), std::string::npos);

  o.chat_template_path.clear();
  o.tokenizer_json = "/nonexistent/tokenizer.json";
  r = write_synth_model(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("/nonexistent/tokenizer.json"), std::string::npos);

  o.tokenizer_json.clear();
  o.out = (dir_ / "no-such-dir" / "x.gguf").string();
  r = write_synth_model(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("no-such-dir"), std::string::npos);
  EXPECT_FALSE(fs::exists(o.out));
}

}  // namespace
}  // namespace smol::synth
